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

use super::sockets;
use super::state::AppState;
use super::storage::Access;
use crate::model::RoomName;

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

/// `/new?private=1`: a room with an unguessable name, stored as private at
/// once (before its first change), so it is never listed.
pub(super) async fn new_private_room(state: &AppState) -> Response {
    let Ok(room) = RoomName::parse(random_token()) else {
        return unavailable("a random name was refused");
    };
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
pub(super) async fn view_link(State(state): State<AppState>, Path(room): Path<String>) -> Response {
    link(&state, room, Ask::Read).await
}

/// `PUT /api/rooms/{room}/view-link`: the room's view-only link, made if it has none.
pub(super) async fn ensure_view_link(
    State(state): State<AppState>,
    Path(room): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !state.origins.allows_socket(&headers) {
        return (StatusCode::FORBIDDEN, "only this site's pages may make a view-only link").into_response();
    }
    link(&state, room, Ask::Ensure).await
}

/// `POST /api/rooms/{room}/view-link`: a new view-only link; the old one stops
/// working and its open connections are closed.
pub(super) async fn replace_view_link(
    State(state): State<AppState>,
    Path(room): Path<String>,
    headers: HeaderMap,
) -> Response {
    // Only our own pages (or scripts, which send no Origin) may: not another site's form.
    if !state.origins.allows_socket(&headers) {
        return (StatusCode::FORBIDDEN, "only this site's pages may replace a view-only link").into_response();
    }
    link(&state, room, Ask::Replace).await
}

async fn link(state: &AppState, room: String, ask: Ask) -> Response {
    let room = match RoomName::parse(room) {
        Ok(room) => room,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("invalid room name: {e}")).into_response(),
    };
    let access = match state.store.access(&room).await {
        Ok(access) => access.unwrap_or(Access { private: false, view_token: None }),
        Err(e) => return unavailable(e),
    };
    let token = match (&access.view_token, ask) {
        (Some(token), Ask::Read | Ask::Ensure) => token.clone(),
        (None, Ask::Read) => return (StatusCode::NOT_FOUND, "this room has no view-only link yet").into_response(),
        _ => {
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
    Path(token): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let room = match room_for(&state, &token).await {
        Ok(Some(room)) => room,
        Ok(None) => return (StatusCode::NOT_FOUND, "this view-only link does not open any room").into_response(),
        Err(response) => return response,
    };
    sockets::open(state, room, Some(token), peer, &headers, upgrade)
}

/// The room a view-only token opens.
pub(super) async fn room_for(state: &AppState, token: &str) -> Result<Option<RoomName>, Response> {
    if !well_formed(token) {
        return Ok(None);
    }
    state.store.room_for_token(token).await.map_err(unavailable)
}
