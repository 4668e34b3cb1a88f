//! One generator connection: opening the WebSocket, joining through the
//! shared client `Session` (the very handshake the browser runs), sending
//! changes and reading what the server sends as `ServerMsg`s.

use std::time::Instant;

use anyhow::{Context, bail};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};

use sketchboard_core::model::{Change, ClientId, RoomName};
use sketchboard_core::protocol::{ClientMsg, ServerMsg};
use sketchboard_core::session::{Event, Session};

use super::wire;
pub(crate) use super::wire::Socket;

/// The server's answer to hello.
#[derive(Debug)]
pub(crate) struct Welcome {
    /// When the welcome's frame arrived (before it was parsed).
    pub at: Instant,
    pub shapes: usize,
}

/// Opens a WebSocket to `room` on the server at `base` (`ws://host:port`).
pub(crate) async fn connect(base: &str, room: &RoomName) -> anyhow::Result<Socket> {
    connect_from(base, room, None).await
}

/// As `connect`, saying (as a proxy the server trusts would) that the
/// connection comes from `address`: one machine playing many addresses.
pub(crate) async fn connect_from(base: &str, room: &RoomName, address: Option<&str>) -> anyhow::Result<Socket> {
    let url = wire::url(base, room);
    let mut request = url.as_str().into_client_request().with_context(|| format!("a request for {url}"))?;
    if let Some(address) = address {
        let value = HeaderValue::from_str(address).with_context(|| format!("address {address:?}"))?;
        request.headers_mut().insert("x-forwarded-for", value);
    }
    // tungstenite's default buffers (128 KiB each way) would cost the generator
    // half a GiB for 2,000 connections; small ones keep it out of the server's way.
    let config = WebSocketConfig::default().read_buffer_size(8 * 1024).write_buffer_size(0);
    // Nagle off: the changes are small and latency is what is measured.
    let (ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let mut ws = ws;
    wire::open(&mut ws).await?;
    Ok(ws)
}

/// Connects, says hello as `client`, and waits for the answer.
pub(crate) async fn join(base: &str, room: &RoomName, client: &ClientId) -> anyhow::Result<(Socket, Welcome)> {
    join_from(base, room, client, None).await
}

/// As `join`, from `address` (see `connect_from`).
pub(crate) async fn join_from(
    base: &str,
    room: &RoomName,
    client: &ClientId,
    address: Option<&str>,
) -> anyhow::Result<(Socket, Welcome)> {
    let mut ws = connect_from(base, room, address).await?;
    let mut session = Session::new(client.clone());
    let hello = session.hello().to_json();
    ws.send(wire::frame(hello)).await.with_context(|| format!("sending hello to room {room}"))?;
    loop {
        match read(&mut ws).await.with_context(|| format!("waiting for the welcome to room {room}"))? {
            Received::Msg(at, msg) => match session.receive(msg) {
                Event::Joined { .. } => return Ok((ws, Welcome { at, shapes: session.view().len() })),
                Event::TurnedAway { code, message } | Event::Refused { code, message, .. } => {
                    bail!("room {room} refused hello: {code:?}: {message}")
                }
                Event::Outdated(why) => bail!("room {room} speaks another protocol: {why}"),
                Event::Resync(e) => bail!("room {room} answered hello out of order: {e}"),
                Event::Applied { .. } | Event::Arriving | Event::Members(_) | Event::Presence(_) => continue,
            },
            Received::Unreadable(_) => continue,
            Received::Closed(reason) => bail!("room {room} closed the connection before the welcome: {reason}"),
        }
    }
}

/// Connects and says hello, and reads nothing: a member that never reads.
pub(crate) async fn hello_only(base: &str, room: &RoomName, client: &ClientId) -> anyhow::Result<Socket> {
    let mut ws = connect(base, room).await?;
    let hello = Session::new(client.clone()).hello().to_json();
    ws.send(wire::frame(hello)).await.with_context(|| format!("sending hello to room {room}"))?;
    Ok(ws)
}

/// Sends one change.
pub(crate) async fn send_change<S>(sink: &mut S, op: u64, change: Change) -> anyhow::Result<()>
where
    S: Sink<Message, Error = tungstenite::Error> + Unpin,
{
    let text = ClientMsg::Change { op, change }.to_json();
    sink.send(wire::frame(text)).await.with_context(|| format!("sending change op {op}"))
}

/// Sends one pointer report (presence).
pub(crate) async fn send_pointer<S>(sink: &mut S, at: [f64; 2]) -> anyhow::Result<()>
where
    S: Sink<Message, Error = tungstenite::Error> + Unpin,
{
    let text = ClientMsg::Pointer { at: Some(at) }.to_json();
    sink.send(wire::frame(text)).await.context("sending a pointer")
}

/// Reads until `count` of this connection's own changes are confirmed,
/// giving `window` a permit back for each; a refusal or a close ends it with
/// an error naming `who`. Others' changes and presence are read past.
pub(crate) async fn confirm<S>(
    stream: &mut S,
    count: usize,
    window: &tokio::sync::Semaphore,
    who: &str,
) -> anyhow::Result<()>
where
    S: Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    let mut confirmed = 0;
    while confirmed < count {
        match read(stream).await? {
            Received::Msg(_, ServerMsg::Applied { op: Some(_), .. }) => {
                confirmed += 1;
                window.add_permits(1);
            }
            Received::Msg(_, ServerMsg::Error { code, message, .. }) => bail!("{who} refused: {code:?}: {message}"),
            Received::Closed(why) => bail!("the server closed {who}: {why}"),
            Received::Msg(..) | Received::Unreadable(_) => {}
        }
    }
    Ok(())
}

/// What reading the socket gave.
#[derive(Debug)]
pub(crate) enum Received {
    /// A message, with the instant its frame arrived: taken before parsing, so
    /// that parsing a large snapshot is not charged to the server.
    Msg(Instant, ServerMsg),
    /// A frame that is not a message this build knows.
    Unreadable(String),
    /// The server closed the connection; why, as far as it said.
    Closed(String),
}

/// The next message. Pings are answered by tungstenite as long as someone
/// reads, which this does; control frames are skipped. Cancel-safe: a message
/// is either returned or still in the stream.
pub(crate) async fn read<S>(stream: &mut S) -> anyhow::Result<Received>
where
    S: Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    loop {
        let frame = match stream.next().await {
            None => return Ok(Received::Closed("the connection ended".into())),
            Some(frame) => frame.context("reading from the server")?,
        };
        let at = Instant::now();
        return Ok(match frame {
            Message::Text(text) => match wire::unframe(&text).map(ServerMsg::decode) {
                Some(Ok(msg)) => Received::Msg(at, msg),
                Some(Err(e)) => Received::Unreadable(format!("unreadable message ({e}): {}", head(&text))),
                // The transport's own packets.
                None => continue,
            },
            Message::Close(Some(frame)) => Received::Closed(format!("closed with {}: {}", frame.code, frame.reason)),
            Message::Close(None) => Received::Closed("closed without a code".into()),
            Message::Binary(_) => Received::Unreadable("a binary frame".into()),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
        });
    }
}

/// The start of a long text, for messages.
fn head(text: &str) -> &str {
    let end = text.char_indices().nth(200).map_or(text.len(), |(i, _)| i);
    &text[..end]
}
