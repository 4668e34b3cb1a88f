//! The server: HTTP routes, one actor per room, storage.
//!
//! `start` binds a listener and serves until `Running::stop`. `main.rs` calls
//! it with the command-line configuration; the integration tests call it with
//! an ephemeral port and a temporary database.

pub mod config;
pub mod connection;
pub mod registry;
pub mod room;
pub mod routes;
pub mod shutdown;
pub mod storage;

use std::net::SocketAddr;

use anyhow::Context;
use leptos::config::LeptosOptions;
use tokio::task::JoinHandle;

pub use config::Config;
use registry::Registry;
use shutdown::Shutdown;
use storage::Store;

/// A server that is listening.
pub struct Running {
    pub addr: SocketAddr,
    pub registry: Registry,
    shutdown: Shutdown,
    task: JoinHandle<std::io::Result<()>>,
}

/// Opens the store, binds `config.addr` and starts serving in the background.
pub async fn start(config: Config, leptos_options: LeptosOptions) -> anyhow::Result<Running> {
    let store =
        Store::open(&config.database_url).with_context(|| format!("opening the database {}", config.database_url))?;
    let registry = Registry::new(store.clone(), config.idle_grace());
    let shutdown = Shutdown::new();
    let listener =
        tokio::net::TcpListener::bind(config.addr).await.with_context(|| format!("binding {}", config.addr))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let state = routes::AppState::new(leptos_options, registry.clone(), store, &config, shutdown.clone());
    let app = routes::router(state);
    let signal = shutdown.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).with_graceful_shutdown(async move { signal.wait().await }).await
    });
    tracing::info!(%addr, database = %config.database_url, "Sketchboard is listening on http://{addr}");
    Ok(Running { addr, registry, shutdown, task })
}

impl Running {
    /// Stops accepting, closes every WebSocket (clients reconnect elsewhere or
    /// later), and waits for the HTTP server to finish. Every change that was
    /// acknowledged is already on disk, so nothing is lost however this ends.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.trigger();
        self.task.await.context("the server task panicked")?.context("the server failed")?;
        Ok(())
    }

    /// Serves until the process is asked to stop (Ctrl-C or SIGTERM).
    pub async fn until_signal(self) -> anyhow::Result<()> {
        shutdown::signal().await;
        tracing::info!("shutting down");
        self.stop().await
    }
}
