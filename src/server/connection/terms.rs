//! The terms a connection is served on.

use std::sync::Arc;
use std::time::Duration;

use super::parts::PartsBudget;
use crate::server::fairness::Permit;
use crate::server::metrics::Metrics;
use crate::server::rate::RateLimit;
use crate::server::shutdown::{ConnectionGuard, Shutdown};

/// The terms a connection is served on, besides its socket and room.
pub(crate) struct Terms {
    pub shutdown: Shutdown,
    /// Silence (no frame at all, pongs included) longer than this closes the connection.
    pub idle_timeout: Duration,
    /// How fast this connection's messages are read.
    pub rate: RateLimit,
    /// Held for the connection's life, so shutdown can wait for it to close.
    pub _guard: ConnectionGuard,
    /// This connection, counted against its address's limit while it lives.
    pub permit: Permit,
    pub metrics: Arc<Metrics>,
    /// Opened by a view-only link: presence yes, changes never.
    pub view_only: bool,
    /// The view-only token it was opened by, checked again once joined.
    pub view_token: Option<String>,
    /// The server's room for changes sent in parts.
    pub parts: PartsBudget,
}
