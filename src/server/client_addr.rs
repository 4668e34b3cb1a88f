//! Who a request comes from, as the per-address limits count it (`fairness`):
//! the peer's address, or behind a trusted proxy the one it forwards for; an
//! IPv6 client by its /64.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};

use super::fairness::{Network, client_ip};
use super::state::AppState;

/// The requester's address (an extractor).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr(pub(crate) Network);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ClientAddr, Self::Rejection> {
        Ok(ClientAddr::of(&parts.extensions, &parts.headers, state))
    }
}

impl ClientAddr {
    /// Who sent a request with these extensions and headers.
    pub(crate) fn of(extensions: &Extensions, headers: &HeaderMap, state: &AppState) -> ClientAddr {
        // Every connection is served with its peer's address (`edge`); a request made without one
        // (a test calling the router directly) counts as loopback.
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(SocketAddr::from(([127, 0, 0, 1], 0)), |ConnectInfo(peer)| *peer);
        ClientAddr(Network::of(client_ip(peer, headers, &state.trusted_proxies)))
    }
}
