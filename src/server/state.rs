//! What every handler and server function can reach: the running rooms, the
//! store, and the settings a connection is served with.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::Config;
use super::fairness::Fairness;
use super::origin::OriginPolicy;
use super::rate::RateLimit;
use super::registry::Registry;
use super::shutdown::{ConnectionGuard, Shutdown};
use super::storage::Store;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub(crate) registry: Registry,
    pub(crate) store: Store,
    pub(crate) origins: Arc<OriginPolicy>,
    pub(crate) shutdown: Shutdown,
    pub(crate) guard: ConnectionGuard,
    pub(crate) idle_timeout: Duration,
    pub(crate) rate: RateLimit,
    pub(crate) fairness: Arc<Fairness>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub(crate) trusted_proxies: Arc<[IpAddr]>,
}

impl AppState {
    pub(crate) fn new(
        leptos_options: LeptosOptions,
        registry: Registry,
        store: Store,
        fairness: Arc<Fairness>,
        config: &Config,
        shutdown: Shutdown,
        guard: ConnectionGuard,
    ) -> AppState {
        let origins = Arc::new(OriginPolicy::new(&config.public_origin, &config.allowed_origins));
        let (idle_timeout, rate) = (config.idle_timeout(), config.rate_limit());
        let trusted_proxies = config.trusted_proxies.clone().into();
        AppState {
            leptos_options,
            registry,
            store,
            origins,
            shutdown,
            guard,
            idle_timeout,
            rate,
            fairness,
            trusted_proxies,
        }
    }
}
