//! Sharing a room safely: private rooms (an unguessable name, never listed)
//! and view-only links (`/v/{token}`), enforced here on the server. A token is
//! independent of the room's name, so a viewer never learns the edit link;
//! whoever holds the edit link (the room's name) may ask for the view link or
//! replace it, which closes the open view-only connections (4007).

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rand::Rng;
use serde::Serialize;

use super::client_addr::ClientAddr;
use super::fairness::{Network, Unfair};
use super::metrics::Why;
use super::sockets;
use super::state::AppState;
use super::storage::Access;
use sketchboard_core::model::RoomName;

/// 22 characters of 64: 132 random bits, URL-safe, a valid room name.
pub(super) fn random_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..22).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// Whether `token` could be one of ours (before asking storage).
fn well_formed(token: &str) -> bool {
    token.len() == 22 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "room access unavailable");
    (StatusCode::SERVICE_UNAVAILABLE, "room access is unavailable right now").into_response()
}

/// An answer saying a per-address limit refused the request (`why`, for the metrics).
fn limited(state: &AppState, why: &'static str, e: Unfair) -> Response {
    state.metrics.limited.get_or_create(&Why { why }).inc();
    tracing::warn!(error = %e, "refused over its address's limit");
    let mut response = (StatusCode::TOO_MANY_REQUESTS, e.to_string()).into_response();
    response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("60"));
    response
}

/// Counts a room that `from` makes stored by its access alone (it has no
/// change yet) against the address's allowance of new rooms, as a room's
/// first change is counted: rows a script makes without ever drawing are
/// rows all the same.
async fn count_new_row(state: &AppState, room: &RoomName, from: Network) -> Result<(), Response> {
    let stored = state.store.head(room).await.map_err(unavailable)?.seq > 0;
    if stored {
        return Ok(());
    }
    state.fairness.create_room(from).map_err(|e| limited(state, "rooms_created", e))
}

/// `/new?private=1`: a room with an unguessable name, stored as private at
/// once (before its first change), so it is never listed.
pub(super) async fn new_private_room(state: &AppState, from: Network) -> Response {
    let Ok(room) = RoomName::parse(random_token()) else {
        return unavailable("a random name was refused");
    };
    if let Err(response) = count_new_row(state, &room, from).await {
        return response;
    }
    let access = Access { private: true, view_token: Some(random_token()) };
    match state.store.set_access(&room, access).await {
        Ok(()) => Redirect::to(&format!("/r/{room}")).into_response(),
        Err(e) => unavailable(e),
    }
}

#[derive(Serialize)]
struct ViewLink {
    /// The link's path: `/v/{token}`.
    path: String,
}

/// What to do about a room's view-only link.
#[derive(Clone, Copy, PartialEq)]
enum Ask {
    /// Tell it, if there is one (`GET`: changes nothing).
    Read,
    /// Tell it, making it first if there is none (`PUT`: doing it twice is doing it once).
    Ensure,
    /// Make a new one; the old one stops working (`POST`).
    Replace,
}

/// `GET /api/rooms/{room}/view-link`: the room's view-only link; 404 if it has none yet.
pub(super) async fn view_link(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    Path(room): Path<String>,
) -> Response {
    link(&state, room, Ask::Read, from).await
}

/// `PUT /api/rooms/{room}/view-link`: the room's view-only link, made if it has none.
pub(super) async fn ensure_view_link(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    Path(room): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !state.origins.allows_socket(&headers) {
        return (StatusCode::FORBIDDEN, "only this site's pages may make a view-only link").into_response();
    }
    link(&state, room, Ask::Ensure, from).await
}

/// `POST /api/rooms/{room}/view-link`: a new view-only link; the old one stops
/// working and its open connections are closed.
pub(super) async fn replace_view_link(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    Path(room): Path<String>,
    headers: HeaderMap,
) -> Response {
    // Only our own pages (or scripts, which send no Origin) may: not another site's form.
    if !state.origins.allows_socket(&headers) {
        return (StatusCode::FORBIDDEN, "only this site's pages may replace a view-only link").into_response();
    }
    link(&state, room, Ask::Replace, from).await
}

async fn link(state: &AppState, room: String, ask: Ask, from: Network) -> Response {
    let room = match RoomName::parse(room) {
        Ok(room) => room,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("invalid room name: {e}")).into_response(),
    };
    let stored = match state.store.access(&room).await {
        Ok(access) => access,
        Err(e) => return unavailable(e),
    };
    let first_row = stored.is_none();
    let access = stored.unwrap_or(Access { private: false, view_token: None });
    let token = match (&access.view_token, ask) {
        (Some(token), Ask::Read | Ask::Ensure) => token.clone(),
        (None, Ask::Read) => return (StatusCode::NOT_FOUND, "this room has no view-only link yet").into_response(),
        _ => {
            if first_row && let Err(response) = count_new_row(state, &room, from).await {
                return response;
            }
            let token = random_token();
            let access = Access { view_token: Some(token.clone()), ..access };
            if let Err(e) = state.store.set_access(&room, access).await {
                return unavailable(e);
            }
            if ask == Ask::Replace {
                state.registry.revoke_viewers(&room);
            }
            token
        }
    };
    Json(ViewLink { path: format!("/v/{token}") }).into_response()
}

/// `/ws/v/{token}`: the room's WebSocket, read-only.
pub(super) async fn view_socket(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    Path(token): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let room = match room_for(&state, &token, from).await {
        Ok(Some(room)) => room,
        Ok(None) => return (StatusCode::NOT_FOUND, "this view-only link does not open any room").into_response(),
        Err(response) => return response,
    };
    sockets::open(state, room, Some(token), peer, &headers, upgrade)
}

/// The room a view-only token opens, as looked up by `from`: an address that
/// tried too many tokens that open nothing is answered 429, without a read.
pub(super) async fn room_for(state: &AppState, token: &str, from: Network) -> Result<Option<RoomName>, Response> {
    state.fairness.may_look_up(from).map_err(|e| limited(state, "missed_lookups", e))?;
    let room = if well_formed(token) { state.store.room_for_token(token).await.map_err(unavailable)? } else { None };
    if room.is_none() {
        state.fairness.missed_lookup(from);
    }
    Ok(room)
}
