//! Reading and writing frames: parsing what a client sends, classifying
//! what breaks the WebSocket protocol, and sending and closing with a deadline.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures_util::{FutureExt, SinkExt};

use super::wire::Wire;
use sketchboard_core::protocol::{ClientMsg, ErrorCode, MAX_MESSAGE_BYTES, ServerMsg, close};

/// How long a closing connection waits for the peer's close reply.
const CLOSE_LINGER: Duration = Duration::from_secs(2);
/// How long one frame (or one batch of them) may take to go out before the
/// peer counts as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a frame was refused.
pub(crate) enum Refusal {
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
pub(crate) fn parse(msg: &Message) -> Result<Option<ClientMsg>, Refusal> {
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

/// How many bytes a frame's message came in.
pub(crate) fn frame_bytes(msg: &Message) -> usize {
    match msg {
        Message::Text(text) => text.len(),
        Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data.len(),
        Message::Close(_) => 0,
    }
}

/// The refusal of change `op` on a view-only connection.
pub(crate) fn read_only(op: u64) -> ServerMsg {
    let why = "this connection came by a view-only link: it may point, never change";
    ServerMsg::error(ErrorCode::ReadOnly, why, Some(op))
}

/// How a read failed, when the client broke the rules rather than went away:
/// the close code and reason to tell it.
pub(crate) enum Violation {
    /// Over the message limit: answered with `message_too_large`, closed with 1009.
    TooLarge,
    /// Closed with this code and reason.
    Close(u16, String),
}

/// What a read error says about the client.
pub(crate) fn violation(e: &axum::Error) -> Option<Violation> {
    use tungstenite::error::ProtocolError;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        match err.downcast_ref::<tungstenite::Error>() {
            Some(tungstenite::Error::Capacity(_)) => return Some(Violation::TooLarge),
            Some(tungstenite::Error::Utf8(_)) => {
                return Some(Violation::Close(close::INVALID_DATA, "text frames must be valid UTF-8".into()));
            }
            // The peer vanished: there is nobody to tell.
            Some(tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)) => return None,
            Some(tungstenite::Error::Protocol(p)) => {
                return Some(Violation::Close(close::PROTOCOL_ERROR, format!("WebSocket protocol error: {p}")));
            }
            Some(_) => return None,
            None => source = err.source(),
        }
    }
    None
}

/// Tells a client how it broke the rules, and closes.
pub(crate) async fn refuse(socket: &mut Wire, violation: Violation) {
    match violation {
        Violation::TooLarge => refuse_too_large(socket).await,
        Violation::Close(code, reason) => {
            let _ = close_with(socket, code, &reason).await;
        }
    }
}

/// Sends a batch of messages with one flush: in a busy room that is one
/// system call for many messages rather than one each. False if the peer is
/// gone or too slow to take them.
pub(crate) async fn send_all(socket: &mut Wire, batch: &mut Vec<Utf8Bytes>) -> bool {
    let Some(writer) = socket.writer() else { return false };
    let sending = async {
        for text in batch.drain(..) {
            writer.feed(Message::Text(text)).await?;
        }
        writer.flush().await
    };
    within_deadline(sending).await
}

/// Sends what is waiting in the writing half (what the room's feed could not
/// finish); false if the peer is gone or too slow to take it.
pub(crate) async fn flush(socket: &mut Wire) -> bool {
    let Some(writer) = socket.writer() else { return false };
    within_deadline(writer.flush()).await
}

/// Runs a send, allowing it `SEND_TIMEOUT`. The deadline's timer is only set
/// up when the send cannot finish at once: most sends fit in the socket's
/// buffer, and this runs for every batch to every member.
async fn within_deadline(sending: impl Future<Output = Result<(), axum::Error>>) -> bool {
    let mut sending = std::pin::pin!(sending);
    if let Some(done) = (&mut sending).now_or_never() {
        return done.is_ok();
    }
    matches!(tokio::time::timeout(SEND_TIMEOUT, sending).await, Ok(Ok(())))
}

/// Sends one frame; false if the peer is gone or too slow to take it.
pub(crate) async fn send_frame(socket: &mut Wire, frame: Message) -> bool {
    let Some(writer) = socket.writer() else { return false };
    within_deadline(writer.send(frame)).await
}

/// Sends one message; false if the peer is gone or too slow to take it (a
/// client that floods without reading must not hold its connection open).
pub(crate) async fn send(socket: &mut Wire, msg: ServerMsg) -> bool {
    send_frame(socket, Message::Text(msg.to_json().into())).await
}

pub(crate) async fn refuse_too_large(socket: &mut Wire) {
    let reason = too_large_reason();
    let _ = send(socket, ServerMsg::error(ErrorCode::MessageTooLarge, reason.clone(), None)).await;
    let _ = close_with(socket, close::TOO_LARGE, &reason).await;
}

pub(crate) fn too_large_reason() -> String {
    format!("message too large (limit {MAX_MESSAGE_BYTES} bytes)")
}

/// Sends a close frame; false if the peer is gone or too slow to take it.
/// Whoever reads the socket then waits for the peer's answer.
pub(crate) async fn send_close(socket: &mut Wire, code: u16, reason: &str) -> bool {
    send_frame(socket, Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await
}

/// Sends a close frame, then reads until the peer answers it (briefly). Closing
/// the socket with unread data in it would make the OS reset the connection,
/// and the peer could lose the close frame, and with it the reason.
pub(crate) async fn close_with(socket: &mut Wire, code: u16, reason: &str) -> Result<(), axum::Error> {
    // A peer that stopped reading must not hold the connection open.
    if !send_close(socket, code, reason).await {
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
