//! Passing a writer's WebSocket on to the node that owns its room. With
//! several nodes only a room's owner appends to it (`room::lease`); a writer
//! who reaches another node (the load balancer hashes rooms to nodes, so
//! this is rare: after a node comes or goes) is relayed, frame by frame, to
//! the owner's `/ws/{room}`, and is the owner's member in every way. The
//! relay reads nothing: the owner checks and answers everything, and its
//! closing code (a resync, a restart) reaches the browser as it was sent.
//! Viewers are served by any node (they write nothing).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::WebSocketUpgrade;
use axum::extract::ws::{self, WebSocket};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{FutureExt, Sink, SinkExt, Stream, StreamExt};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

use super::fairness::{Network, Permit, client_ip};
use super::sockets::{admit, tuned};
use super::state::AppState;
use super::storage::Owner;
use sketchboard_core::model::RoomName;
use sketchboard_core::protocol::close;

/// Names the node that forwarded a socket: a node that is not the room's
/// owner either refuses it rather than forward it again.
const FORWARDED_BY: &str = "x-sketchboard-forwarded-by";
/// At most this many frames received at once go on in one write.
const BURST: usize = 64;
/// How long connecting to the owner may take before the browser is told to come back.
const CONNECT_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The node that owns `room`, when it is another one: the one whose lease
/// lives, or, when nobody's does, whichever node claimed the room first (this
/// one claims it now, before the socket opens, so that two nodes that both
/// found the room free agree which of them serves it).
async fn owner_elsewhere(state: &AppState, room: &RoomName, network: Network) -> Option<Owner> {
    // One node alone owns every room.
    if state.peers.alone() || state.registry.owns(room) {
        return None;
    }
    match state.store.owner(room).await {
        Ok(Some(owner)) if owner.live && !owner.here => return Some(owner),
        Ok(_) => {}
        Err(e) => {
            // The join claims the room, and finds out there.
            tracing::warn!(%room, error = %e, "could not read the room's owner");
            return None;
        }
    }
    match state.registry.own(room, network).await {
        Ok(owner) => owner,
        Err(e) => {
            // The join meets the same, and says why.
            tracing::debug!(%room, error = %e, "could not claim the room before its socket opened");
            None
        }
    }
}

/// Opens `room`'s WebSocket for a writer: here (`serve_here`, once admitted),
/// or relayed to the node that owns the room.
pub(super) async fn open(
    state: AppState,
    room: RoomName,
    peer: SocketAddr,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
    serve_here: impl FnOnce(AppState, RoomName, Permit, WebSocketUpgrade) -> Response,
) -> Response {
    let permit = match admit(&state, peer, &headers) {
        Ok(permit) => permit,
        Err(refused) => return *refused,
    };
    let Some(owner) = owner_elsewhere(&state, &room, permit.network()).await else {
        return serve_here(state, room, permit, upgrade);
    };
    if let Some(by) = headers.get(FORWARDED_BY) {
        tracing::warn!(%room, owner = %owner.node.name, ?by, "refused a socket forwarded to a node that does not own its room");
        return (StatusCode::SERVICE_UNAVAILABLE, "this node does not own the room; try again").into_response();
    }
    let request = match upstream_request(&state, &room, &owner, peer, &headers) {
        Ok(request) => request,
        Err(e) => {
            tracing::error!(%room, owner = %owner.node.address, error = %e, "cannot forward to the room's owner");
            return (StatusCode::SERVICE_UNAVAILABLE, "the room's node cannot be reached; try again").into_response();
        }
    };
    state.metrics.sockets_forwarded.inc();
    tuned(upgrade).on_upgrade(move |socket| async move {
        let _held = (permit, state.guard);
        relay(socket, request, &room, &owner, &state.shutdown).await;
    })
}

/// The owner's `/ws/{room}`, asked as the browser asked this node: its host
/// and origin, and its address for the owner's per-address limits (which the
/// owner reads only if it trusts this node: `--trusted-proxies`).
fn upstream_request(
    state: &AppState,
    room: &RoomName,
    owner: &Owner,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<tungstenite::handshake::client::Request, tungstenite::Error> {
    let base = owner.node.address.replacen("https://", "wss://", 1).replacen("http://", "ws://", 1);
    let mut request = format!("{base}/ws/{room}").into_client_request()?;
    let out = request.headers_mut();
    // The name and page the browser used, so the owner judges them as this node did.
    for name in [header::HOST, header::ORIGIN] {
        if let Some(value) = headers.get(&name) {
            out.insert(name, value.clone());
        }
    }
    let client = client_ip(peer, headers, &state.trusted_proxies);
    if let Ok(client) = HeaderValue::from_str(&client.to_string()) {
        out.insert("x-forwarded-for", client);
    }
    out.insert(FORWARDED_BY, HeaderValue::from_static("sketchboard"));
    Ok(request)
}

/// Carries frames both ways until either side closes; a close from one side
/// goes to the other as it was sent.
async fn relay(
    browser: WebSocket,
    request: tungstenite::handshake::client::Request,
    room: &RoomName,
    owner: &Owner,
    shutdown: &super::shutdown::Shutdown,
) {
    let (mut to_browser, mut from_browser) = browser.split();
    // Without Nagle's delay, as the browsers' own sockets (`edge`): a change waits for nothing.
    let connecting = tokio_tungstenite::connect_async_with_config(request, None, true);
    let upstream = match tokio::time::timeout(CONNECT_LIMIT, connecting).await {
        Ok(Ok((upstream, _))) => upstream,
        failed => {
            let why = match failed {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".to_owned(),
            };
            tracing::warn!(%room, owner = %owner.node.address, error = %why, "could not reach the room's owner");
            let _ = to_browser.send(closing(close::UNAVAILABLE, "the room's node cannot be reached; reconnect")).await;
            return;
        }
    };
    let (mut to_owner, mut from_owner) = upstream.split();
    let to_owner_close = |m: &tungstenite::Message| matches!(m, tungstenite::Message::Close(_));
    let to_browser_close = |m: &ws::Message| matches!(m, ws::Message::Close(_));
    loop {
        let going = tokio::select! {
            first = from_browser.next() => {
                let pass = |m: Option<Result<ws::Message, _>>| match m {
                    Some(Ok(message)) => Some(upstream_message(message)),
                    _ => Some(tungstenite::Message::Close(None)),
                };
                burst(first, &mut from_browser, &mut to_owner, pass, to_owner_close).await
            }
            first = from_owner.next() => {
                let pass = |m: Option<Result<tungstenite::Message, _>>| match m {
                    Some(Ok(message)) => browser_message(message),
                    // The owner went away without closing: the browser resumes (here, or on the next owner).
                    _ => Some(closing(close::UNAVAILABLE, "the room's node went away; reconnect")),
                };
                burst(first, &mut from_owner, &mut to_browser, pass, to_browser_close).await
            }
            () = shutdown.wait() => {
                let _ = to_browser.send(closing(close::RESTARTING, "the server is restarting")).await;
                let _ = to_owner.send(tungstenite::Message::Close(None)).await;
                return;
            }
        };
        if !going {
            return;
        }
    }
}

/// Passes `first` and the frames `from` already holds after it (up to
/// `BURST`) on to `to` in one write, each as `pass` makes it (`None`: not
/// passed on; the end of `from` becomes a close). The owner writes a room's
/// batch to a member at once, and the relay keeps it so: one write for the
/// batch, not one per frame. Answers whether to go on: not once a close went,
/// or `to` failed.
async fn burst<M, N>(
    first: Option<M>,
    from: &mut (impl Stream<Item = M> + Unpin),
    to: &mut (impl Sink<N> + Unpin),
    pass: impl Fn(Option<M>) -> Option<N>,
    closes: impl Fn(&N) -> bool,
) -> bool {
    let (mut next, mut sent, mut ended) = (Some(first), 0, false);
    while let Some(item) = next.take() {
        if let Some(message) = pass(item) {
            ended = closes(&message);
            if to.feed(message).await.is_err() {
                return false;
            }
        }
        sent += 1;
        if ended || sent == BURST {
            break;
        }
        // Only what has arrived already: `None` here means nothing more yet.
        next = from.next().now_or_never();
    }
    to.flush().await.is_ok() && !ended
}

fn closing(code: u16, reason: &'static str) -> ws::Message {
    ws::Message::Close(Some(ws::CloseFrame { code, reason: reason.into() }))
}

fn upstream_message(message: ws::Message) -> tungstenite::Message {
    use tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};
    match message {
        ws::Message::Text(text) => tungstenite::Message::Text(same_text(text.into())),
        ws::Message::Binary(bytes) => tungstenite::Message::Binary(bytes),
        ws::Message::Ping(bytes) => tungstenite::Message::Ping(bytes),
        ws::Message::Pong(bytes) => tungstenite::Message::Pong(bytes),
        ws::Message::Close(frame) => tungstenite::Message::Close(
            frame.map(|f| CloseFrame { code: CloseCode::from(f.code), reason: f.reason.as_str().into() }),
        ),
    }
}

/// The owner's frame as the browser gets it (`None`: nothing to pass on).
fn browser_message(message: tungstenite::Message) -> Option<ws::Message> {
    Some(match message {
        tungstenite::Message::Text(text) => ws::Message::Text(same_text(text.into())),
        tungstenite::Message::Binary(bytes) => ws::Message::Binary(bytes),
        tungstenite::Message::Ping(bytes) => ws::Message::Ping(bytes),
        tungstenite::Message::Pong(bytes) => ws::Message::Pong(bytes),
        tungstenite::Message::Close(frame) => {
            ws::Message::Close(frame.map(|f| ws::CloseFrame { code: f.code.into(), reason: f.reason.as_str().into() }))
        }
        tungstenite::Message::Frame(_) => return None,
    })
}

/// A text frame's bytes, relabelled from one WebSocket library's type to the
/// other's without a copy (checked again as UTF-8, which they are; a copy
/// only if that ever failed).
fn same_text<T: TryFrom<Bytes> + From<String>>(bytes: Bytes) -> T {
    T::try_from(bytes.clone()).unwrap_or_else(|_| T::from(String::from_utf8_lossy(&bytes).into_owned()))
}
