//! What every handler and server function can reach: the running rooms, the
//! store, the limits and counters, and the terms a connection is served on.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::config::Config;
use super::connection::PartsBudget;
use super::fairness::Fairness;
use super::metrics::Metrics;
use super::origin::OriginPolicy;
use super::painter::Painter;
use super::peers;
use super::rate::RateLimit;
use super::registry::Registry;
use super::shutdown::{ConnectionGuard, Shutdown};
use super::storage::Store;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub(crate) registry: Registry,
    pub(crate) store: Store,
    /// The other nodes serving the same rooms (or none).
    pub(crate) peers: peers::Shared,
    pub(crate) origins: Arc<OriginPolicy>,
    pub(crate) shutdown: Shutdown,
    pub(crate) guard: ConnectionGuard,
    pub(crate) idle_timeout: Duration,
    pub(crate) rate: RateLimit,
    pub(crate) fairness: Arc<Fairness>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub(crate) trusted_proxies: Arc<[IpAddr]>,
    pub(crate) metrics: Arc<Metrics>,
    /// Whether `/metrics` answers anyone, rather than loopback only.
    pub(crate) metrics_public: bool,
    /// Whose turn it is to draw a PNG.
    pub(crate) painter: Arc<Painter>,
    /// Room for changes that come in parts, all connections together.
    pub(crate) parts: PartsBudget,
}

/// The parts of the server every handler shares.
pub(crate) struct Shared {
    pub(crate) registry: Registry,
    pub(crate) store: Store,
    pub(crate) peers: peers::Shared,
    pub(crate) fairness: Arc<Fairness>,
    pub(crate) metrics: Arc<Metrics>,
}

impl AppState {
    pub(crate) fn new(
        leptos_options: LeptosOptions,
        shared: Shared,
        config: &Config,
        shutdown: Shutdown,
        guard: ConnectionGuard,
    ) -> AppState {
        let Shared { registry, store, peers, fairness, metrics } = shared;
        AppState {
            leptos_options,
            registry,
            store,
            peers,
            origins: Arc::new(OriginPolicy::new(&config.public_origin, &config.allowed_origins)),
            shutdown,
            guard,
            idle_timeout: config.idle_timeout(),
            rate: config.rate_limit(),
            fairness,
            trusted_proxies: config.trusted_proxies.clone().into(),
            painter: Arc::new(Painter::new(metrics.clone())),
            metrics,
            metrics_public: config.metrics_public,
            parts: PartsBudget::new(config.parts_budget_bytes()),
        }
    }
}
