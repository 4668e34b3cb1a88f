//! The server: HTTP routes, one actor per room, storage.
//!
//! `start` binds a listener and serves until `Running::stop`. `main.rs` calls
//! it with the command-line configuration; the integration tests call it with
//! an ephemeral port and a temporary database.
//!
//! - `edge`: the front door (TCP, HTTP/1.1, header deadlines, idle caps);
//! - `routes`: HTTP (pages, `/ws/{room}`, `/healthz`, `/new`); `origin`: who may open a socket;
//! - `connection`: one WebSocket, the edge where input is checked; `rate`: its rate limit;
//!   `forward`: a writer's socket relayed to the node that owns its room;
//! - `fairness`: per-address limits (connections, rooms opened and created);
//! - `registry`: room name → running room actor; `room`: the actor that orders and records;
//! - `storage`: the store (`RoomStore`: SQLite, or Redis for several nodes); `peers`: what
//!   passes between nodes, never stored; `redis_link`: the connection to a shared Redis;
//! - `lobby`: the room list; `state`: what handlers share; `frame`: a message on its way out;
//! - `sharing`: private rooms and view-only links; `api`: the read-only JSON API and history;
//!   `pictures`: the board as SVG, PNG and file; `painter`: whose turn to draw, one drawing
//!   per board state, what was drawn lately; `board_file`: board files read for Import;
//! - `config` and `shutdown`.

mod api;
mod board_file;
mod client_addr;
mod config;
mod connection;
mod edge;
mod fairness;
mod for_pages;
mod forward;
mod frame;
pub(crate) mod lobby;
mod metrics;
mod origin;
mod painter;
mod peers;
mod pictures;
mod presence;
mod rate;
mod redis_link;
mod registry;
mod room;
mod routes;
mod sharing;
mod shutdown;
mod sockets;
mod state;
mod storage;
pub mod testing;

use std::net::SocketAddr;

use anyhow::Context;
use leptos::config::LeptosOptions;
use tokio::task::JoinHandle;

pub use config::Config;
use fairness::Fairness;
pub use for_pages::PageData;
use metrics::Metrics;
pub use painter::RENDERS_WAITING;
use peers::{Alone, RedisPeers};
use redis_link::RedisLink;
use registry::Registry;
pub(crate) use routes::MountPages;
use shutdown::{Drained, Shutdown};
pub(crate) use state::AppState;
use storage::archive::Archive;
use storage::redis::RedisStore;
pub use storage::redis::migrate::Copied;
use storage::sqlite::SqliteStore;
use storage::{Node, Store};

/// A server that is listening.
pub struct Running {
    pub addr: SocketAddr,
    registry: Registry,
    shutdown: Shutdown,
    drained: Drained,
    task: JoinHandle<std::io::Result<()>>,
}

/// How long shutdown waits for open WebSockets to close.
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Opens the store, binds `config.addr` and starts serving in the background,
/// with the site's pages mounted by `mount_pages` (see `crate::site`).
pub(crate) async fn start(
    config: Config,
    leptos_options: LeptosOptions,
    mount_pages: MountPages,
) -> anyhow::Result<Running> {
    let metrics = Metrics::new();
    let listener =
        tokio::net::TcpListener::bind(config.addr).await.with_context(|| format!("binding {}", config.addr))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let node = Node::this_process(advertised(&config, addr));
    let (store, peers) = open_store(&config, &metrics, &node).await?;
    let fairness = Fairness::new(config.address_limits());
    let registry = Registry::new(store.clone(), peers.clone(), fairness.clone(), metrics.clone(), config.room_limits());
    let shutdown = Shutdown::new();
    let (guard, drained) = shutdown::connection_tracking();
    let shared = state::Shared {
        registry: registry.clone(),
        store: store.clone(),
        peers: peers.clone(),
        fairness,
        metrics: metrics.clone(),
    };
    let state = AppState::new(leptos_options, shared, &config, shutdown.clone(), guard);
    if config.expire_rooms_after_days > 0 {
        let days = config.expire_rooms_after_days;
        tokio::spawn(expire_rooms(store.clone(), registry.clone(), days, shutdown.clone()));
    }
    if !peers.alone() {
        tokio::spawn(lobby::heartbeat(peers.clone(), registry.clone(), shutdown.clone()));
    }
    let app = routes::router(state, mount_pages);
    let open_files = edge::raise_open_file_limit();
    let task = tokio::spawn(edge::serve(listener, app, config.edge_limits(), metrics, shutdown.clone()));
    tracing::info!(%addr, database = %config.database_url, open_files, "Sketchboard is listening on http://{addr}");
    Ok(Running { addr, registry, shutdown, drained, task })
}

/// Where the other nodes reach this one: `--advertise-url`, or the address
/// it listens on (an unspecified IP as loopback: nodes on one machine).
fn advertised(config: &Config, mut addr: SocketAddr) -> String {
    if let Some(url) = &config.advertise_url {
        return url.trim_end_matches('/').to_owned();
    }
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    format!("http://{addr}")
}

/// The store and the way to the other nodes: with `--redis-url`, the rooms'
/// logs in that Redis and the nodes sharing it (this one as `node`);
/// otherwise the SQLite file, alone.
async fn open_store(
    config: &Config,
    metrics: &std::sync::Arc<Metrics>,
    node: &Node,
) -> anyhow::Result<(Store, peers::Shared)> {
    let Some(url) = &config.redis_url else {
        let sqlite = SqliteStore::open_counted(&config.database_url, metrics.clone())
            .with_context(|| format!("opening the database {}", config.database_url))?;
        return Ok((std::sync::Arc::new(sqlite), std::sync::Arc::new(Alone)));
    };
    let link = RedisLink::connect(url).await.with_context(|| format!("connecting to {url}"))?;
    let mut link = link.with_replicas(config.redis_replicas);
    if config.rehearse_upgrade {
        link = link.rehearsing_upgrade();
        tracing::warn!("rehearsing an upgrade: this node calls the next version's Redis Functions");
    }
    // The store first: its Functions library replaces an older build's, which held the peers' functions too.
    let store = RedisStore::new(link.clone()).await.with_context(|| format!("setting up the rooms in {url}"))?;
    let mut store = store.leased_by(node.clone(), std::time::Duration::from_millis(config.lease_ms));
    if let Some(history) = &config.history_url {
        let archive = Archive::open(history).await.with_context(|| format!("opening the history at {history}"))?;
        store = store.archived_to(archive, config.hot_tail);
        tracing::info!(hot_tail = config.hot_tail, "the rooms' history is archived to PostgreSQL");
    }
    let peers = RedisPeers::new(link).await.with_context(|| format!("setting up the nodes' traffic in {url}"))?;
    tracing::info!(redis = %url, node = %node.name, address = %node.address, "the rooms' logs are kept in Redis");
    Ok((std::sync::Arc::new(store), std::sync::Arc::new(peers)))
}

/// `--copy-to-redis`: copies every room of `config.database_url` into the
/// Redis at `config.redis_url` (with `--history-url`, all but each room's hot
/// tail into that archive) and checks the copies (`storage::redis::migrate`).
pub async fn copy_to_redis(config: &Config) -> anyhow::Result<Copied> {
    let url = config.redis_url.as_deref().context("--copy-to-redis needs --redis-url")?;
    let sqlite = SqliteStore::open(&config.database_url)
        .with_context(|| format!("opening the database {}", config.database_url))?;
    let link = RedisLink::connect(url).await.with_context(|| format!("connecting to {url}"))?;
    let mut redis = RedisStore::new(link).await.with_context(|| format!("setting up the rooms in {url}"))?;
    if let Some(history) = &config.history_url {
        let archive = Archive::open(history).await.with_context(|| format!("opening the history at {history}"))?;
        redis = redis.archived_to(archive, config.hot_tail);
    }
    storage::redis::migrate::copy_to_redis(&sqlite, &redis).await.context("copying the rooms into Redis")
}

impl Running {
    /// How many rooms are loaded, now and as it changes.
    pub fn rooms_loaded(&self) -> tokio::sync::watch::Receiver<usize> {
        self.registry.loaded()
    }

    /// Stops accepting, closes every WebSocket with 1012 (clients reconnect
    /// later), and waits for the HTTP server and, for up to five seconds, for
    /// the sockets to finish closing. Every change that was acknowledged is
    /// already on disk, so nothing is lost however this ends.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.trigger();
        self.task.await.context("the server task panicked")?.context("the server failed")?;
        // The router (and with it the server's own guard) is gone now; what
        // remains are the connections still closing.
        if !self.drained.wait(DRAIN_LIMIT).await {
            tracing::warn!("some WebSockets were still closing after {DRAIN_LIMIT:?}; stopping anyway");
        }
        // With other nodes: the rooms' leases go back, so they take the rooms at once.
        if !self.registry.stop_all(DRAIN_LIMIT).await {
            tracing::warn!("some rooms were still retiring after {DRAIN_LIMIT:?}; stopping anyway");
        }
        Ok(())
    }

    /// Serves until the process is asked to stop (Ctrl-C or SIGTERM).
    pub async fn until_signal(self) -> anyhow::Result<()> {
        shutdown::signal().await;
        tracing::info!("shutting down");
        self.stop().await
    }
}

/// Deletes stored rooms nobody opened for `days`, every hour, sparing the
/// rooms loaded now.
async fn expire_rooms(store: Store, registry: Registry, days: u32, shutdown: Shutdown) {
    let unopened_ms = i64::from(days) * 24 * 3600 * 1000;
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = shutdown.wait() => return,
        }
        match store.expire(storage::now_ms() - unopened_ms, registry.loaded_rooms()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, days, "deleted rooms nobody opened for {days} days"),
            Err(e) => tracing::warn!(error = %e, "could not expire unopened rooms"),
        }
    }
}
