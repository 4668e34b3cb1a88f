//! HTTP routes: the WebSocket endpoints, the JSON API, the board's pictures,
//! the health check and the "new room" redirect, with the site's pages
//! (mounted by whoever starts the server: `MountPages`) beside them.

use axum::Router;
use std::net::SocketAddr;

use axum::extract::DefaultBodyLimit;
use axum::extract::{ConnectInfo, Path, Query, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rand::Rng;
use serde::Deserialize;
use tower_http::compression::CompressionLayer;

use super::api::{self, By, Page};
use super::client_addr::ClientAddr;
use super::for_pages::PageData;
use super::state::AppState;
use super::{board_file, forward, pictures, sharing, sockets};
use sketchboard_core::model::RoomName;

/// Mounts the site's pages (the Leptos app) on the server's router: every
/// path its own routes do not take. The pages get a `PageData` as context.
pub(crate) type MountPages = fn(Router<AppState>, &AppState, PageData) -> Router<AppState>;

pub(crate) fn router(state: AppState, mount_pages: MountPages) -> Router {
    let routes = Router::new()
        .route("/ws/{room}", get(websocket))
        .route("/ws/v/{token}", get(sharing::view_socket))
        .route(
            "/api/rooms/{room}/view-link",
            get(sharing::view_link).put(sharing::ensure_view_link).post(sharing::replace_view_link),
        )
        .route("/api/lobby", get(|State(s)| api::lobby(s)))
        .route("/api/rooms/{room}", get(|State(s), Path(k)| api::room(s, k, By::Name)))
        .route(
            "/api/rooms/{room}/changes",
            get(|State(s), Path(k), Query(p): Query<Page>| api::changes(s, k, By::Name, p)),
        )
        .route("/api/rooms/{room}/versions/{seq}", get(|State(s), Path((k, n))| api::version(s, k, By::Name, n)))
        .route("/api/v/{token}", get(|State(s), ClientAddr(from), Path(k)| api::room(s, k, By::Token(from))))
        .route(
            "/api/v/{token}/changes",
            get(|State(s), ClientAddr(from), Path(k), Query(p): Query<Page>| api::changes(s, k, By::Token(from), p)),
        )
        .route(
            "/api/v/{token}/versions/{seq}",
            get(|State(s), ClientAddr(from), Path((k, n))| api::version(s, k, By::Token(from), n)),
        )
        .route(
            "/api/board-file",
            post(board_file::read).layer(DefaultBodyLimit::max(sketchboard_core::format::MAX_FILE_BYTES)),
        )
        .route("/new", get(new_room));
    let pages = mount_pages(routes, &state, PageData::new(state.clone()))
        .layer(middleware::from_fn_with_state(state.clone(), pictures::serve))
        .layer(middleware::from_fn_with_state(state.clone(), cache_control))
        // Pages and other dynamic answers; the site's files come precompressed at build time.
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn_with_state(state.clone(), only_our_hosts));
    // Health checks and scrapes come by address: exempt from the host check.
    Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics)).merge(pages).with_state(state)
}

/// How long browsers may keep what they are sent. A site file whose name
/// carries its content's hash never changes under that name: a year, and
/// "immutable". Everything else (pages, and site files in development, which
/// keep their names) is checked again on every use. Site files come in
/// several encodings, so caches must key them by `Accept-Encoding` too.
async fn cache_control(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let options = &state.leptos_options;
    let site_file = request.uri().path().starts_with(&format!("/{}/", options.site_pkg_dir));
    let mut response = next.run(request).await;
    if !response.status().is_success() || response.headers().contains_key(header::CACHE_CONTROL) {
        return response;
    }
    let headers = response.headers_mut();
    let policy = if site_file && options.hash_files { "public, max-age=31536000, immutable" } else { "no-cache" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    if site_file {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Refuses requests for a host this server is not (see `origin`).
async fn only_our_hosts(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.origins.host_allowed(request.headers()) {
        return next.run(request).await;
    }
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("").to_owned();
    tracing::warn!(%host, "refused a request for a host this server is not");
    let why = format!(
        "this server does not answer to the name {host:?}: it is reached at an address, or at a name set with --public-origin"
    );
    (StatusCode::FORBIDDEN, why).into_response()
}

async fn websocket(
    State(state): State<AppState>,
    Path(room): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let room = match RoomName::parse(room) {
        Ok(room) => room,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("invalid room name: {e}")).into_response(),
    };
    forward::open(state, room, peer, headers, upgrade, |state, room, permit, upgrade| {
        sockets::open_admitted(state, room, None, permit, upgrade)
    })
    .await
}

/// The server's counters, in OpenMetrics text: to loopback only, unless `--metrics-public`.
async fn metrics(State(state): State<AppState>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    if !state.metrics_public && !peer.ip().to_canonical().is_loopback() {
        return (StatusCode::FORBIDDEN, "metrics are served to loopback only (see --metrics-public)").into_response();
    }
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], state.metrics.render()).into_response()
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable").into_response()
        }
    }
}

#[derive(Deserialize)]
struct NewRoom {
    name: Option<String>,
    /// "New private room": an unguessable name, never listed.
    private: Option<String>,
}

/// The lobby's form lands here: a typed name, or none for a random one.
/// Plain HTTP, so creating a room works before (or without) the WebAssembly.
async fn new_room(State(state): State<AppState>, ClientAddr(from): ClientAddr, Query(q): Query<NewRoom>) -> Response {
    if q.private.is_some() {
        return sharing::new_private_room(&state, from).await;
    }
    let typed = q.name.as_deref().map(str::trim).unwrap_or_default();
    let name = if typed.is_empty() { random_room_name() } else { typed.to_owned() };
    match RoomName::parse(name) {
        Ok(room) => Redirect::to(&format!("/r/{room}")).into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Html(format!(
                "<!DOCTYPE html><title>Invalid room name</title><h1>Invalid room name</h1>\
                 <p>A room name {e}.</p><p><a href=\"/\">Back to the lobby</a></p>"
            )),
        )
            .into_response(),
    }
}

fn random_room_name() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let tail: String = (0..8).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("room-{tail}")
}
