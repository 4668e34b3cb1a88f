//! One browser tab's WebSocket: the edge where untrusted input is checked.
//!
//! The connection waits for `hello`, joins its room, then relays: parsed and
//! validated changes go to the room actor; whatever the room sends (already
//! serialised, shared between all members) goes out on the socket. Malformed
//! input is answered with an `error` message right here and never reaches the
//! room.

use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{FutureExt, SinkExt};
use tokio::sync::mpsc;

use super::rate::{Bucket, Pace, RateLimit};
use super::registry::Registry;
use super::room::{ConnId, JoinError, RoomCmd};
use super::shutdown::{ConnectionGuard, Shutdown};
use crate::model::RoomName;
use crate::protocol::{ClientMsg, ErrorCode, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, Position, ServerMsg, close};

/// Messages a connection's outbound queue holds before the room gives up on it.
pub const OUTBOUND_QUEUE: usize = 1024;
/// How long a new connection has to say `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing connection waits for the peer's close reply.
const CLOSE_LINGER: Duration = Duration::from_secs(2);
/// How long one frame (or one batch of them) may take to go out before the
/// peer counts as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// The most queued messages written out with one flush.
const MAX_WRITE_BATCH: usize = 64;

/// The terms a connection is served on, besides its socket and room.
pub struct Terms {
    pub shutdown: Shutdown,
    /// Silence (no frame at all, pongs included) longer than this closes the connection.
    pub idle_timeout: Duration,
    /// How fast this connection's messages are read.
    pub rate: RateLimit,
    /// Held for the connection's life, so shutdown can wait for it to close.
    pub _guard: ConnectionGuard,
}

/// Serves one WebSocket until either side closes it.
pub async fn serve(mut socket: WebSocket, room: RoomName, registry: Registry, terms: Terms) {
    let shutdown = &terms.shutdown;
    let hello = tokio::select! {
        hello = tokio::time::timeout(HELLO_TIMEOUT, socket.recv()) => Some(hello),
        () = shutdown.wait() => None,
    };
    let Some(hello) = hello else {
        let _ = close_with(&mut socket, close::RESTARTING, "the server is restarting").await;
        return;
    };
    let (client, at) = match hello {
        Err(_) => {
            let _ = close_with(&mut socket, close::HANDSHAKE, "expected hello within 10 seconds").await;
            return;
        }
        Ok(None | Some(Err(_))) => return,
        Ok(Some(Ok(msg))) => match parse(&msg) {
            Ok(Some(ClientMsg::Hello { version, client, since, epoch, build })) if version == PROTOCOL_VERSION => {
                tracing::debug!(%room, build = build.as_deref().unwrap_or("?"), ?since, ?epoch, "hello");
                // Without an epoch, the board is taken to be from a room that
                // predates epochs (epoch 0).
                (client, since.map(|seq| Position { epoch: epoch.unwrap_or(0), seq }))
            }
            Ok(Some(ClientMsg::Hello { version, .. })) => {
                let text = format!("this server speaks protocol {PROTOCOL_VERSION}, not {version}: reload the page");
                let _ = send(&mut socket, ServerMsg::error(ErrorCode::VersionMismatch, text.clone(), None)).await;
                let _ = close_with(&mut socket, close::HANDSHAKE, "protocol version mismatch").await;
                return;
            }
            Ok(Some(ClientMsg::Change { .. })) => {
                let _ = send(&mut socket, ServerMsg::error(ErrorCode::HelloFirst, "send hello first", None)).await;
                let _ = close_with(&mut socket, close::HANDSHAKE, "expected hello").await;
                return;
            }
            Ok(None) => return,
            Err(Refusal::Error(err)) => {
                let _ = send(&mut socket, *err).await;
                let _ = close_with(&mut socket, close::HANDSHAKE, "expected hello").await;
                return;
            }
            Err(Refusal::TooLarge) => {
                refuse_too_large(&mut socket).await;
                return;
            }
        },
    };

    let (out_tx, mut out_rx) = mpsc::channel::<Utf8Bytes>(OUTBOUND_QUEUE);
    let (room_tx, member) = match registry.join(&room, client, at, out_tx).await {
        Ok(joined) => joined,
        Err(e) => {
            tracing::warn!(%room, error = %e, "join failed");
            let (code, close_code) = match e {
                JoinError::Full(_) => (Some(ErrorCode::RoomFull), close::ROOM_FULL),
                JoinError::Busy(_) => (Some(ErrorCode::ServerBusy), close::SERVER_BUSY),
                JoinError::LoadFailed(_) | JoinError::Encoding(_) | JoinError::KeptClosing => {
                    (None, close::UNAVAILABLE)
                }
            };
            if let Some(code) = code {
                let _ = send(&mut socket, ServerMsg::error(code, e.to_string(), None)).await;
            }
            let _ = close_with(&mut socket, close_code, "the room is unavailable; try again later").await;
            return;
        }
    };
    tracing::debug!(%room, %member, "joined");

    relay(&mut socket, &room_tx, &mut out_rx, member, &terms).await;
    let _ = room_tx.send(RoomCmd::Leave { member }).await;
    tracing::debug!(%room, %member, "left");
}

async fn relay(
    socket: &mut WebSocket,
    room_tx: &mpsc::Sender<RoomCmd>,
    out_rx: &mut mpsc::Receiver<Utf8Bytes>,
    member: ConnId,
    terms: &Terms,
) {
    // Pings keep the connection honest: a peer that vanished without closing
    // (a laptop lid, a dead Wi-Fi) stops answering, and is closed after the
    // idle timeout instead of being counted as present forever.
    let mut ping = tokio::time::interval(terms.idle_timeout / 3);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ping.reset();
    let mut last_heard = Instant::now();
    let mut bucket = Bucket::new(terms.rate);
    // While set, the client is over its rate and is not read until then.
    let mut paused_until: Option<Instant> = None;
    // Made once, not per message: the loop below runs for every frame in and out.
    let stopping = terms.shutdown.wait();
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            () = &mut stopping => {
                let _ = close_with(socket, close::RESTARTING, "the server is restarting").await;
                return;
            }
            _ = ping.tick() => {
                if last_heard.elapsed() >= terms.idle_timeout {
                    // A frame may be waiting unread (this loop was busy
                    // elsewhere): judge the peer only on what it really sent.
                    let Some(incoming) = socket.recv().now_or_never() else {
                        let _ = close_with(socket, close::IDLE, "nothing heard from you for too long").await;
                        return;
                    };
                    if matches!(incoming, Some(Ok(_))) {
                        last_heard = Instant::now();
                    }
                    if !on_frame(socket, room_tx, member, incoming).await {
                        return;
                    }
                    continue;
                }
                if !send_frame(socket, Message::Ping(Default::default())).await {
                    return;
                }
            }
            out = out_rx.recv() => match out {
                // Closed with messages still queued: the room dropped us for
                // falling behind. What is queued is moot, as the client must
                // resync anyway, so it hears so now rather than after a
                // backlog it cannot use.
                Some(_) if out_rx.is_closed() => {
                    let _ = close_with(socket, close::RESYNC, "resync: you fell behind; reconnect to catch up").await;
                    return;
                }
                Some(text) => {
                    if !send_queued(socket, text, out_rx).await {
                        return;
                    }
                }
                None => {
                    // The room dropped us: we fell behind, or it restarted.
                    let _ = close_with(socket, close::RESYNC, "resync: reconnect to catch up").await;
                    return;
                }
            },
            () = sleep_until(paused_until) => paused_until = None,
            incoming = socket.recv(), if paused_until.is_none() => {
                if let Some(Ok(Message::Text(_) | Message::Binary(_))) = &incoming
                    && let Pace::Wait { until, first } = bucket.take()
                {
                    paused_until = Some(until);
                    if first {
                        let per_sec = terms.rate.per_sec;
                        let why = format!("more than {per_sec} messages a second: the rest are read at that rate");
                        if !send(socket, ServerMsg::error(ErrorCode::RateLimited, why, None)).await {
                            return;
                        }
                    }
                }
                if matches!(incoming, Some(Ok(_))) {
                    last_heard = Instant::now();
                }
                if !on_frame(socket, room_tx, member, incoming).await {
                    return;
                }
            }
        }
    }
}

/// Sleeps until `at`; forever if there is no `at`.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Handles one frame from the client; false when the connection should end.
async fn on_frame(
    socket: &mut WebSocket,
    room_tx: &mpsc::Sender<RoomCmd>,
    member: ConnId,
    incoming: Option<Result<Message, axum::Error>>,
) -> bool {
    let msg = match incoming {
        None => return false,
        Some(Err(e)) => {
            if is_too_large(&e) {
                refuse_too_large(socket).await;
            }
            return false;
        }
        Some(Ok(msg)) => msg,
    };
    match parse(&msg) {
        Ok(None) => true,
        Ok(Some(ClientMsg::Change { op, change })) => {
            if room_tx.send(RoomCmd::Change { member, op, change }).await.is_err() {
                let _ = close_with(socket, close::RESYNC, "resync: the room restarted").await;
                return false;
            }
            true
        }
        Ok(Some(ClientMsg::Hello { .. })) => {
            let err = ServerMsg::error(ErrorCode::HelloFirst, "hello was already received", None);
            send(socket, err).await
        }
        Err(Refusal::Error(err)) => send(socket, *err).await,
        Err(Refusal::TooLarge) => {
            refuse_too_large(socket).await;
            false
        }
    }
}

/// Why a frame was refused.
enum Refusal {
    /// Answer with this error and carry on. (Boxed: a `ServerMsg` can be large.)
    Error(Box<ServerMsg>),
    /// Answer, then close with 1009: the sender does not respect the limit.
    TooLarge,
}

impl From<ServerMsg> for Refusal {
    fn from(msg: ServerMsg) -> Self {
        Refusal::Error(Box::new(msg))
    }
}

/// Parses one frame. `Ok(None)` for frames that carry no message (ping, pong,
/// close).
fn parse(msg: &Message) -> Result<Option<ClientMsg>, Refusal> {
    let text = match msg {
        Message::Text(text) if text.len() > MAX_MESSAGE_BYTES => return Err(Refusal::TooLarge),
        Message::Text(text) => text.as_str(),
        Message::Binary(data) if data.len() > MAX_MESSAGE_BYTES => return Err(Refusal::TooLarge),
        Message::Binary(_) => {
            let err = ServerMsg::error(ErrorCode::BadMessage, "binary frames are not accepted; send JSON text", None);
            return Err(err.into());
        }
        Message::Ping(_) | Message::Pong(_) | Message::Close(_) => return Ok(None),
    };
    ClientMsg::decode(text).map(Some).map_err(|e| ServerMsg::error(ErrorCode::BadMessage, e.0, None).into())
}

fn is_too_large(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(tungstenite::Error::Capacity(_)) = err.downcast_ref::<tungstenite::Error>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// Sends `first` and whatever else is already queued behind it, flushed
/// together: in a busy room that is one system call for many messages rather
/// than one each. False if the peer is gone or too slow to take them.
async fn send_queued(socket: &mut WebSocket, first: Utf8Bytes, out_rx: &mut mpsc::Receiver<Utf8Bytes>) -> bool {
    let sending = async {
        socket.feed(Message::Text(first)).await?;
        for _ in 1..MAX_WRITE_BATCH {
            match out_rx.try_recv() {
                Ok(text) => socket.feed(Message::Text(text)).await?,
                Err(_) => break,
            }
        }
        socket.flush().await
    };
    matches!(tokio::time::timeout(SEND_TIMEOUT, sending).await, Ok(Ok(())))
}

/// Sends one frame; false if the peer is gone or too slow to take it.
async fn send_frame(socket: &mut WebSocket, frame: Message) -> bool {
    matches!(tokio::time::timeout(SEND_TIMEOUT, socket.send(frame)).await, Ok(Ok(())))
}

/// Sends one message; false if the peer is gone or too slow to take it (a
/// client that floods without reading must not hold its connection open).
async fn send(socket: &mut WebSocket, msg: ServerMsg) -> bool {
    send_frame(socket, Message::Text(msg.to_json().into())).await
}

async fn refuse_too_large(socket: &mut WebSocket) {
    let reason = format!("message too large (limit {MAX_MESSAGE_BYTES} bytes)");
    let _ = send(socket, ServerMsg::error(ErrorCode::MessageTooLarge, reason.clone(), None)).await;
    let _ = close_with(socket, close::TOO_LARGE, &reason).await;
}

/// Sends a close frame, then reads until the peer answers it (briefly). Closing
/// the socket with unread data in it would make the OS reset the connection,
/// and the peer could lose the close frame, and with it the reason.
async fn close_with(socket: &mut WebSocket, code: u16, reason: &str) -> Result<(), axum::Error> {
    let frame = Message::Close(Some(CloseFrame { code, reason: reason.into() }));
    // A peer that stopped reading must not hold the connection open.
    if !send_frame(socket, frame).await {
        return Ok(());
    }
    let _ = tokio::time::timeout(CLOSE_LINGER, async {
        while let Some(Ok(msg)) = socket.recv().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
    Ok(())
}
