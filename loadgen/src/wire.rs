//! How messages travel to the server under test: as Sketchboard's own JSON
//! text frames (Sketchboard itself, and the bare relay under `bench/relay`),
//! or inside socket.io events (the socket.io relay under `bench/socketio`).
//! One target per run of the generator, chosen on its command line.

use std::sync::OnceLock;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use sketchboard_core::model::RoomName;

/// One connection to the server under test.
pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the generator talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// Sketchboard: `/ws/{room}`, JSON text frames.
    Sketchboard,
    /// The bare relay in bench/relay: the same wire as Sketchboard.
    Relay,
    /// The socket.io relay in bench/socketio: engine.io v4 over a WebSocket,
    /// each message the payload of a "msg" event.
    Socketio,
}

static TARGET: OnceLock<Target> = OnceLock::new();

/// Chooses the target for the rest of the process (the first choice stands).
pub(crate) fn choose(target: Target) {
    let _ = TARGET.set(target);
}

fn target() -> Target {
    *TARGET.get().unwrap_or(&Target::Sketchboard)
}

/// The WebSocket address of `room` on the server at `base`.
pub(crate) fn url(base: &str, room: &RoomName) -> String {
    let base = base.trim_end_matches('/');
    match target() {
        Target::Sketchboard | Target::Relay => format!("{base}/ws/{room}"),
        Target::Socketio => format!("{base}/socket.io/?EIO=4&transport=websocket&room={room}"),
    }
}

/// What must happen on a fresh socket before messages flow.
pub(crate) async fn open(ws: &mut Socket) -> anyhow::Result<()> {
    if target() != Target::Socketio {
        return Ok(());
    }
    // engine.io's "open" packet, then socket.io's connect to the main namespace.
    let open = next_text(ws).await.context("waiting for engine.io's open packet")?;
    if !open.starts_with('0') {
        bail!("expected engine.io's open packet, got {open:?}");
    }
    ws.send(Message::text("40")).await.context("connecting to socket.io's namespace")?;
    let connected = next_text(ws).await.context("waiting for socket.io's connect")?;
    if !connected.starts_with("40") {
        bail!("expected socket.io's connect, got {connected:?}");
    }
    Ok(())
}

async fn next_text(ws: &mut Socket) -> anyhow::Result<String> {
    loop {
        match ws.next().await.context("the server closed the connection")?? {
            Message::Text(text) => return Ok(text.as_str().to_owned()),
            Message::Close(_) => bail!("the server closed the connection"),
            _ => continue,
        }
    }
}

/// A message for the wire.
pub(crate) fn frame(json: String) -> Message {
    match target() {
        Target::Sketchboard | Target::Relay => Message::text(json),
        Target::Socketio => Message::text(format!(r#"42["msg",{json}]"#)),
    }
}

/// The message a text frame carries, if it carries one (socket.io also sends
/// its own packets, which carry none).
pub(crate) fn unframe(text: &str) -> Option<&str> {
    match target() {
        Target::Sketchboard | Target::Relay => Some(text),
        Target::Socketio => text.strip_prefix(r#"42["msg","#).and_then(|rest| rest.strip_suffix(']')),
    }
}
