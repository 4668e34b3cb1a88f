//! Where and how one scenario runs: the server's nodes and processes, and the
//! names (rooms, client ids) that are this run's own; and waiting for a
//! condition, which every scenario does.

use std::time::{Duration, Instant};

use anyhow::Context;

use super::procfs;
use sketchboard_core::model::{ClientId, RoomName};

/// How many connections are being opened at any one time during setup.
pub(crate) const SETUP_CONCURRENCY: usize = 64;

/// Where and how one scenario runs.
#[derive(Debug, Clone)]
pub struct Run {
    /// ws://HOST:PORT of each node (one, unless several share the rooms).
    pub urls: Vec<String>,
    /// Room r's members all go to node r mod n (else connection i to node i mod n).
    pub route_by_room: bool,
    pub server_pids: Vec<u32>,
    pub drain: Duration,
    /// Makes this run's room names and client ids its own, so runs against one
    /// server never meet (or trip over each other's `op` numbers).
    nonce: String,
}

impl Run {
    /// `urls`: one or several comma-separated; `server_pids`: the processes whose use is reported, added up.
    pub fn new(urls: &str, server_pids: Vec<u32>, drain: Duration) -> Run {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let nonce = format!("{:x}{:x}", since_epoch.as_millis(), std::process::id());
        let urls = urls.split(',').map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned).collect();
        Run { urls, route_by_room: false, server_pids, drain, nonce }
    }

    /// The node connection `i` goes to.
    pub(crate) fn url_for(&self, i: usize) -> &str {
        self.urls.get(i % self.urls.len().max(1)).map_or("ws://127.0.0.1:3000", String::as_str)
    }

    pub(crate) fn room_name(&self, label: &str) -> anyhow::Result<RoomName> {
        let name = format!("lg{}-{label}", self.nonce);
        RoomName::parse(&name).with_context(|| format!("room name {name:?}"))
    }

    pub(crate) fn client_id(&self, i: usize) -> anyhow::Result<ClientId> {
        let name = format!("lg{}-c{i}", self.nonce);
        ClientId::parse(&name).with_context(|| format!("client id {name:?}"))
    }

    /// The ids of the connections that fill a room first, apart from everyone else's.
    pub(crate) fn filler_id(&self, i: usize) -> anyhow::Result<ClientId> {
        let name = format!("lg{}-f{i}", self.nonce);
        ClientId::parse(&name).with_context(|| format!("client id {name:?}"))
    }

    pub(crate) fn watch(&self) -> anyhow::Result<procfs::Watch> {
        procfs::Watch::start(&self.server_pids)
    }
}

/// Polls `done` until it holds or `limit` passes; whether it held.
pub(crate) async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
