//! A joined connection's life: frames in, through the rate limit, to the
//! room (changes) or the room's presence; what the room sends, out, and
//! presence when the room has nothing waiting; pings both ways.
//!
//! The two directions never wait on each other. A change read from the
//! socket waits in `inbound` until the room's mailbox has space, and while it
//! waits nothing more is read (TCP pushes back on the sender), but what the
//! room sends keeps going out: a member whose own change is queued behind
//! others' bursts still drains its outbound queue, and is never dropped for it.

use std::sync::Arc;

use axum::extract::ws::{Message, Utf8Bytes};
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use super::frames::{
    Refusal, close_with, flush, frame_bytes, parse, read_only, refuse, refuse_too_large, send, send_all, send_frame,
    violation,
};
use super::parts::{Assembler, Took};
use super::presence_pace::{Heard, IN_PER_SEC, PresencePace};
use super::terms::Terms;
use super::wire::{Wire, read_feed};
use crate::server::fairness::Permit;
use crate::server::metrics::Why;
use crate::server::presence::{Inbox, Outgoing};
use crate::server::rate::{Bucket, Pace};
use crate::server::room::{ConnId, Read, RoomCmd};
use sketchboard_core::protocol::{ClientMsg, ErrorCode, ServerMsg, close};

/// The most queued messages written out with one flush.
const MAX_WRITE_BATCH: usize = 64;

/// The most presence written with one flush (at least one message): the
/// room's changes go out between two.
const PRESENCE_PER_FLUSH: usize = 16 * 1024;

/// What a frame from the client calls for.
enum Next {
    Continue,
    /// Hand this to the room.
    ToRoom(RoomCmd),
    /// Presence of this many bytes was read (and is held in `Outgoing`).
    Presence(usize),
    /// The connection is over.
    End,
}

/// What the loop keeps about reading from the client.
struct Reading {
    last_heard: Instant,
    /// A command read from the socket that the room has not taken yet.
    inbound: Option<RoomCmd>,
    /// While set, the client is over its rate (of messages, or of presence
    /// bytes) and is not read until then.
    paused_until: Option<Instant>,
    bucket: Bucket,
    presence: PresencePace,
}

/// A tab's two ends of its room's presence.
pub(super) struct Presence {
    pub inbox: Arc<Inbox>,
    pub outgoing: Outgoing,
}

/// A joined connection's ties to its room.
pub(super) struct Link<'a> {
    pub room: &'a mpsc::Sender<RoomCmd>,
    /// Its own queue (the answer to hello).
    pub out: &'a mut mpsc::Receiver<Utf8Bytes>,
    /// Changes when the room's view-only link is replaced (it matters to viewers only).
    pub revoked: watch::Receiver<u64>,
    pub member: ConnId,
}

pub(super) async fn serve(socket: &mut Wire, link: &mut Link<'_>, presence: &mut Presence, terms: &Terms) {
    let Link { room: room_tx, out: out_rx, revoked, member } = link;
    let (room_tx, member) = (*room_tx, *member);
    let view_only = terms.view_only;
    let mut assembler = Assembler::new(terms.parts.clone(), terms.permit.network());
    // Others' presence taken from the inbox and not written yet, and when this
    // tab may be written more of it (it is over its allowance).
    let mut said: Vec<Utf8Bytes> = Vec::new();
    let mut said_wait: Option<Instant> = None;
    // Pings keep the connection honest: a peer that vanished without closing
    // (a laptop lid, a dead Wi-Fi) stops answering, and is closed after the
    // idle timeout instead of being counted as present forever.
    let mut ping = tokio::time::interval(terms.idle_timeout / 3);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ping.reset();
    let mut reading = Reading {
        last_heard: Instant::now(),
        inbound: None,
        paused_until: None,
        bucket: Bucket::new(terms.rate),
        presence: PresencePace::new(),
    };
    // Made once, not per message: the loop below runs for every frame in and out.
    let stopping = terms.shutdown.wait();
    tokio::pin!(stopping);
    loop {
        // Caught up, its own queue sent: the room may write to the socket itself.
        if out_rx.is_empty() {
            socket.lend();
        }
        tokio::select! {
            // The member's own queue first: its answer to hello comes before the feed.
            biased;
            () = &mut stopping => {
                let _ = close_with(socket, close::RESTARTING, "the server is restarting").await;
                return;
            }
            _ = ping.tick() => {
                // A frame waiting for the room was heard, however long ago it was read.
                if reading.inbound.is_none() && reading.last_heard.elapsed() >= terms.idle_timeout {
                    // A frame may be waiting unread (this loop was busy
                    // elsewhere): judge the peer only on what it really sent.
                    let Some(incoming) = socket.recv_now() else {
                        let _ = close_with(socket, close::IDLE, "nothing heard from you for too long").await;
                        return;
                    };
                    let parts = (&mut presence.outgoing, &mut assembler);
                    if !take(socket, (member, view_only, &terms.permit), parts, incoming, &mut reading).await {
                        return;
                    }
                    continue;
                }
                if !send_frame(socket, Message::Ping(Default::default())).await {
                    return;
                }
            }
            out = out_rx.recv() => match out {
                Some(text) if !out_rx.is_closed() => {
                    if !send_frame(socket, Message::Text(text)).await {
                        return;
                    }
                }
                // The room dropped us (it restarted, or could not record a
                // change): what is queued is moot, the client must resync.
                _ => {
                    resync(socket, terms, "dropped", "resync: reconnect to catch up").await;
                    return;
                }
            },
            read = read_feed(&mut socket.cursor, MAX_WRITE_BATCH) => match read {
                Read::Messages(mut batch) => {
                    let sent = send_all(socket, &mut batch).await;
                    if let Some(cursor) = socket.cursor.as_mut() {
                        cursor.recycle(batch);
                    }
                    if !sent {
                        return;
                    }
                }
                Read::Returned => {
                    if !flush(socket).await {
                        return;
                    }
                }
                Read::Lagged => {
                    resync(socket, terms, "behind", "resync: you fell behind; reconnect to catch up").await;
                    return;
                }
                Read::Closed => {
                    resync(socket, terms, "room_closed", "resync: the room restarted; reconnect").await;
                    return;
                }
            },
            // Presence only when the feed has nothing waiting: changes first,
            // and what piles up meanwhile is only ever the latest of each.
            () = presence.inbox.ready(), if said.is_empty() && said_wait.is_none() => {
                presence.inbox.take(&mut said);
                said.reverse();
            }
            // A little at a time, the feed looked at between two: a joiner is
            // told of everyone at once, and the socket's write buffer keeps
            // whatever size one flush needed.
            () = std::future::ready(()), if !said.is_empty() && said_wait.is_none() => {
                let mut chunk = Vec::new();
                let mut bytes = 0;
                while let Some(next) = said.pop_if(|f| chunk.is_empty() || bytes + f.len() <= PRESENCE_PER_FLUSH) {
                    bytes += next.len();
                    chunk.push(next);
                }
                if !send_all(socket, &mut chunk).await {
                    return;
                }
                said_wait = reading.presence.sent(bytes);
            }
            () = sleep_until(said_wait) => said_wait = None,
            () = sleep_until(presence.outgoing.due()) => presence.outgoing.publish(),
            Ok(()) = revoked.changed(), if view_only => {
                let _ = close_with(socket, close::VIEW_REVOKED, "this view-only link was replaced").await;
                return;
            }
            permit = room_tx.reserve(), if reading.inbound.is_some() => match (permit, reading.inbound.take()) {
                (Ok(permit), Some(cmd)) => permit.send(cmd),
                _ => {
                    resync(socket, terms, "room_closed", "resync: the room restarted").await;
                    return;
                }
            },
            () = sleep_until(reading.paused_until) => reading.paused_until = None,
            () = assembler.evicted() => {
                // Its room went to a change that needed it: refused now, its parts dropped.
                if let Some(refusal) = assembler.expired()
                    && !send(socket, refusal).await
                {
                    return;
                }
            }
            () = sleep_until(assembler.due()) => {
                // Judge the client only on what it sent: while this loop waits
                // for the room, the next part may be here unread. (Not while
                // its own rate slows it: pings and floods earn no time.)
                if reading.inbound.is_some() {
                    assembler.postpone();
                    continue;
                }
                if let Some(incoming) = socket.recv_now() {
                    let parts = (&mut presence.outgoing, &mut assembler);
                    if !take(socket, (member, view_only, &terms.permit), parts, incoming, &mut reading).await {
                        return;
                    }
                    continue;
                }
                if let Some(refusal) = assembler.expired()
                    && !send(socket, refusal).await
                {
                    return;
                }
            }
            incoming = socket.reader.next(), if reading.paused_until.is_none() && reading.inbound.is_none() => {
                // Pings count too: answering them costs the server, not the sender.
                if let Some(Ok(Message::Text(_) | Message::Binary(_) | Message::Ping(_))) = &incoming
                    && let Pace::Wait { until, first } = reading.bucket.take()
                {
                    reading.paused_until = Some(until);
                    if first {
                        let per_sec = terms.rate.per_sec;
                        let why = format!("more than {per_sec} messages a second: the rest are read at that rate");
                        if !send(socket, ServerMsg::error(ErrorCode::RateLimited, why, None)).await {
                            return;
                        }
                    }
                }
                let parts = (&mut presence.outgoing, &mut assembler);
                if !take(socket, (member, view_only, &terms.permit), parts, incoming, &mut reading).await {
                    return;
                }
                presence.outgoing.publish();
            }
        }
    }
}

/// Closes with 4000, counted by `why`.
async fn resync(socket: &mut Wire, terms: &Terms, why: &'static str, reason: &str) {
    terms.metrics.resyncs.get_or_create(&Why { why }).inc();
    let _ = close_with(socket, close::RESYNC, reason).await;
}

/// Sleeps until `at`; forever if there is no `at`.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Takes in one frame read from the client: the client is heard from, the
/// frame judged, a change for the room held in `inbound` until the room
/// takes it, and presence counted by its bytes. False once the connection is over.
async fn take(
    socket: &mut Wire,
    (member, view_only, permit): (ConnId, bool, &Permit),
    (outgoing, assembler): (&mut Outgoing, &mut Assembler),
    incoming: Option<Result<Message, axum::Error>>,
    reading: &mut Reading,
) -> bool {
    if matches!(incoming, Some(Ok(_))) {
        reading.last_heard = Instant::now();
    }
    match on_frame(socket, member, view_only, (&mut *outgoing, assembler), incoming).await {
        Next::Continue => true,
        Next::ToRoom(cmd) => {
            reading.inbound = Some(cmd);
            true
        }
        Next::Presence(bytes) => {
            let Heard { wait, hold } = reading.presence.heard(bytes, permit);
            if let Some(until) = hold {
                outgoing.hold_until(until);
            }
            let Some((until, first)) = wait else { return true };
            reading.paused_until = reading.paused_until.max(Some(until));
            let why = format!(
                "more than {} KiB of presence a second: the rest is read at that rate",
                IN_PER_SEC as u32 / 1024
            );
            !first || send(socket, ServerMsg::error(ErrorCode::RateLimited, why, None)).await
        }
        Next::End => false,
    }
}

/// Judges one frame from the client. Presence is held in `outgoing` (it is
/// passed on when due); changes go to the room, those in parts once whole.
async fn on_frame(
    socket: &mut Wire,
    member: ConnId,
    view_only: bool,
    (outgoing, assembler): (&mut Outgoing, &mut Assembler),
    incoming: Option<Result<Message, axum::Error>>,
) -> Next {
    let msg = match incoming {
        None => return Next::End,
        Some(Err(e)) => {
            if let Some(violation) = violation(&e) {
                refuse(socket, violation).await;
            }
            return Next::End;
        }
        Some(Ok(msg)) => msg,
    };
    let bytes = frame_bytes(&msg);
    let msg = match parse(&msg) {
        Ok(None) => return Next::Continue,
        Ok(Some(ClientMsg::Part { op, part, parts, changes })) => {
            let took = if view_only {
                Took { refusals: assembler.read_only(op).into_iter().collect(), whole: None }
            } else {
                assembler.part(op, part, parts, changes, bytes)
            };
            let busy = took.busy();
            for refusal in took.refusals {
                if !send(socket, refusal).await {
                    return Next::End;
                }
            }
            if busy {
                // Nothing the client sent after it may go in before it, or the
                // busy change would come back below its client's mark: close,
                // and its client sends it again, in order, on a new connection.
                let _ = close_with(socket, close::TRY_AGAIN_LATER, "busy: send it again shortly").await;
                return Next::End;
            }
            return match took.whole {
                Some((op, change, room)) => {
                    Next::ToRoom(RoomCmd::Change { member, op, change, keep: Some(Box::new(room)) })
                }
                None => Next::Continue,
            };
        }
        Ok(Some(msg)) => msg,
        Err(Refusal::Error(err)) => {
            return if send(socket, *err).await { Next::Continue } else { Next::End };
        }
        Err(Refusal::TooLarge) => {
            refuse_too_large(socket).await;
            return Next::End;
        }
    };
    // Parts come one after another: anything else ends a change under way.
    if let Some(refusal) = assembler.interrupted()
        && !send(socket, refusal).await
    {
        return Next::End;
    }
    match msg {
        ClientMsg::Change { op, .. } if view_only => {
            if send(socket, read_only(op)).await {
                Next::Continue
            } else {
                Next::End
            }
        }
        ClientMsg::Change { op, change } => Next::ToRoom(RoomCmd::Change { member, op, change, keep: None }),
        ClientMsg::Name { name } => {
            outgoing.name(name);
            Next::Presence(bytes)
        }
        ClientMsg::Pointer { at } => {
            outgoing.pointer(at);
            Next::Presence(bytes)
        }
        ClientMsg::Selection { ids } => {
            outgoing.selection(ids);
            Next::Presence(bytes)
        }
        ClientMsg::Hello { .. } => {
            let err = ServerMsg::error(ErrorCode::HelloFirst, "hello was already received", None);
            if send(socket, err).await { Next::Continue } else { Next::End }
        }
        // Taken above.
        ClientMsg::Part { .. } => Next::Continue,
    }
}
