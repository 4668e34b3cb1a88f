//! One browser tab's WebSocket: the edge where untrusted input is checked.
//!
//! The connection waits for `hello`, joins its room, then lives as a member (`joined.rs`):
//! parsed and validated changes go to the room actor; whatever the room sends
//! (already serialised, shared between all members) goes out on the socket.
//! Malformed input is answered with an `error` message right here and never
//! reaches the room (`frames.rs`).

mod frames;
mod joined;
mod parts;
mod presence_pace;
mod terms;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Utf8Bytes, WebSocket};
use tokio::sync::mpsc;

use super::metrics::{Metrics, Why};
use super::registry::{Joined, Registry};
use super::room::{JoinError, RoomCmd};
use frames::{Refusal, close_with, parse, refuse, refuse_too_large, send, violation};
pub(super) use parts::PartsBudget;
use sketchboard_core::model::RoomName;
use sketchboard_core::protocol::{ClientMsg, ErrorCode, PROTOCOL_VERSION, Position, ServerMsg, close};
pub(super) use terms::Terms;
use wire::Wire;

/// Messages a connection's own queue holds (its answer to hello; everything
/// else comes through the room's shared feed).
pub(super) const OUTBOUND_QUEUE: usize = 256;
/// How long a new connection has to say `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Counts an open WebSocket for as long as it lives.
struct Open(Arc<Metrics>);

impl Open {
    fn new(metrics: &Arc<Metrics>) -> Open {
        metrics.connections.inc();
        Open(metrics.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.connections.dec();
    }
}

/// Serves one WebSocket until either side closes it.
pub(super) async fn serve(socket: WebSocket, room: RoomName, registry: Registry, terms: Terms) {
    let mut socket = Wire::new(socket);
    let _open = Open::new(&terms.metrics);
    let shutdown = &terms.shutdown;
    let hello = tokio::select! {
        hello = tokio::time::timeout(HELLO_TIMEOUT, socket.recv()) => Some(hello),
        () = shutdown.wait() => None,
    };
    let Some(hello) = hello else {
        let _ = close_with(&mut socket, close::RESTARTING, "the server is restarting").await;
        return;
    };
    let (client, person, at) = match hello {
        Err(_) => {
            let _ = close_with(&mut socket, close::HANDSHAKE, "expected hello within 10 seconds").await;
            return;
        }
        Ok(None) => return,
        Ok(Some(Err(e))) => {
            if let Some(violation) = violation(&e) {
                refuse(&mut socket, violation).await;
            }
            return;
        }
        Ok(Some(Ok(msg))) => match parse(&msg) {
            Ok(Some(ClientMsg::Hello { version, client, since, epoch, build, person }))
                if version == PROTOCOL_VERSION =>
            {
                tracing::debug!(%room, build = build.as_deref().unwrap_or("?"), ?since, ?epoch, "hello");
                // Without an epoch, the board is taken to be from a room that
                // predates epochs (epoch 0). Without a person, the tab is one.
                let person = person.unwrap_or_else(|| client.clone());
                (client, person, since.map(|seq| Position { epoch: epoch.unwrap_or(0), seq }))
            }
            Ok(Some(ClientMsg::Hello { version, .. })) => {
                let text = format!("this server speaks protocol {PROTOCOL_VERSION}, not {version}: reload the page");
                let _ = send(&mut socket, ServerMsg::error(ErrorCode::VersionMismatch, text.clone(), None)).await;
                let _ = close_with(&mut socket, close::HANDSHAKE, "protocol version mismatch").await;
                return;
            }
            Ok(Some(_)) => {
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
    let Joined { room: room_tx, member, cursor, room_presence, revoked } =
        match registry.join(&room, client, terms.permit.network(), at, terms.view_only, out_tx).await {
            Ok(joined) => joined,
            Err(e) => {
                tracing::warn!(%room, error = %e, "join failed");
                let (code, close_code) = match e {
                    JoinError::Full(_) => (Some(ErrorCode::RoomFull), close::ROOM_FULL),
                    JoinError::Busy(_) => (Some(ErrorCode::ServerBusy), close::SERVER_BUSY),
                    JoinError::Unfair(_) => {
                        terms.metrics.limited.get_or_create(&Why { why: "rooms_opened" }).inc();
                        (Some(ErrorCode::TooManyRooms), close::TOO_MANY_ROOMS)
                    }
                    JoinError::LoadFailed(_) | JoinError::KeptClosing | JoinError::Elsewhere(_) => {
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
    // A link replaced between the upgrade and the join was announced before
    // this connection listened: the token, read again now, says so. (The new
    // token is stored before viewers are told, so no replacement slips between.)
    if let Some(token) = &terms.view_token
        && !registry.token_opens(token, &room).await
    {
        let _ = close_with(&mut socket, close::VIEW_REVOKED, "this view-only link was replaced").await;
        let _ = room_tx.send(RoomCmd::Leave { member }).await;
        return;
    }

    let number = registry.person_number(&room, &person).await;
    let (inbox, outgoing) = room_presence.enter(member.0, person, terms.view_only, number);
    let mut presence = joined::Presence { inbox, outgoing };
    socket.cursor = Some(cursor);
    let mut link = joined::Link { room: &room_tx, out: &mut out_rx, revoked, member };
    joined::serve(&mut socket, &mut link, &mut presence, &terms).await;
    // Gone from presence at once, before the room hears of it.
    drop(presence);
    // Its address's place is free once the room hears it left, not after.
    drop(terms);
    let _ = room_tx.send(RoomCmd::Leave { member }).await;
    tracing::debug!(%room, %member, "left");
}
