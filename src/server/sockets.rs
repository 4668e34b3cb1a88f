//! Opening a room's WebSocket: the checks before the upgrade (the page's
//! origin, the address's connection limit) and the terms the connection is
//! then served on. Shared by `/ws/{room}` and the view-only `/ws/v/{token}`.

use std::net::SocketAddr;

use axum::extract::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::connection;
use super::fairness::{Permit, client_ip};
use super::metrics::Why;
use super::state::AppState;
use sketchboard_core::model::RoomName;
use sketchboard_core::protocol::MAX_MESSAGE_BYTES;

/// Upgrades a request to a room's WebSocket, read-only if opened by a
/// view-only token (`view`), after the origin and per-address checks.
pub(super) fn open(
    state: AppState,
    room: RoomName,
    view: Option<String>,
    peer: SocketAddr,
    headers: &HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    match admit(&state, peer, headers) {
        Ok(permit) => open_admitted(state, room, view, permit, upgrade),
        Err(refused) => *refused,
    }
}

/// `open`, once the checks let the socket in (`admit`).
pub(super) fn open_admitted(
    state: AppState,
    room: RoomName,
    view: Option<String>,
    permit: Permit,
    upgrade: WebSocketUpgrade,
) -> Response {
    tuned(upgrade).on_upgrade(move |socket| {
        let terms = connection::Terms {
            shutdown: state.shutdown,
            idle_timeout: state.idle_timeout,
            rate: state.rate,
            _guard: state.guard,
            permit,
            metrics: state.metrics,
            view_only: view.is_some(),
            view_token: view,
            parts: state.parts,
        };
        connection::serve(socket, room, state.registry, terms)
    })
}

/// The checks before any room's socket is opened, served here or forwarded:
/// the page's origin, and a place among the address's connections.
/// (The refusal boxed: a `Response` is large, and admitting is the common case.)
pub(super) fn admit(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> Result<Permit, Box<Response>> {
    if !state.origins.allows_socket(headers) {
        tracing::warn!(origin = ?headers.get(header::ORIGIN), "refused a WebSocket from a foreign origin");
        return Err(Box::new((StatusCode::FORBIDDEN, "this origin may not open a WebSocket here").into_response()));
    }
    state.fairness.connect(client_ip(peer, headers, &state.trusted_proxies)).map_err(|e| {
        state.metrics.limited.get_or_create(&Why { why: "connections" }).inc();
        tracing::warn!(error = %e, "refused a WebSocket over its address's limit");
        Box::new((StatusCode::TOO_MANY_REQUESTS, format!("{e}: close some tabs, or try again later")).into_response())
    })
}

/// The upgrade with the server's socket settings.
pub(super) fn tuned(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    // Small buffers: axum's defaults reserve 128 KiB per connection up front.
    // The write buffer is only a threshold (it grows as used): messages queued
    // together collect there and go out in one write when the relay flushes.
    upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(16 * 1024)
        // Past this the peer is not reading: the send fails and the connection ends.
        .max_write_buffer_size(512 * 1024)
        // Fragments of one message are buffered only up to the message limit.
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
}
