//! What the integration tests (`tests/it`) reach of the server's insides,
//! and nothing more: the store behind its one interface, opened on either
//! engine, for the contract suite and for tests that read a room's log
//! directly. Not part of the product's interface.

use std::sync::Arc;

pub use super::redis_link::FUNCTIONS_VERSION;
use super::redis_link::RedisLink;
use super::storage::redis::RedisStore;
use super::storage::sqlite::SqliteStore;
pub use super::storage::{
    Access, Append, Claim, Head, LoadedRoom, LobbyRoom, LogEntry, Logged, Node, Owner, Record, RoomStore,
    SNAPSHOT_EVERY, Snapshot, Store, StoreError, Version, now_ms,
};

/// The store of a SQLite database (`sqlite://PATH`).
pub fn sqlite_store(url: &str) -> Result<Store, StoreError> {
    Ok(Arc::new(SqliteStore::open(url)?))
}

/// The store of a Redis (`redis://HOST:PORT`, or a cluster's nodes
/// comma-separated) shared by several nodes.
pub async fn redis_store(url: &str) -> Result<Store, StoreError> {
    redis_store_replicated(url, 0).await
}

/// The same, acknowledging an append only once `replicas` replicas have it.
pub async fn redis_store_replicated(url: &str, replicas: u32) -> Result<Store, StoreError> {
    let link = RedisLink::connect(url).await?.with_replicas(replicas);
    Ok(Arc::new(RedisStore::new(link).await?))
}

/// The store of a Redis as a node serving rooms sees it: it claims rooms as
/// `node`, for `lease` at a time, and its appends are fenced by its leases.
pub async fn redis_store_of_node(url: &str, node: Node, lease: std::time::Duration) -> Result<Store, StoreError> {
    let link = RedisLink::connect(url).await?;
    Ok(Arc::new(RedisStore::new(link).await?.leased_by(node, lease)))
}

/// The same, archiving each room's history to the PostgreSQL at `history`
/// and keeping `hot_tail` changes of each in Redis.
pub async fn redis_store_archived(
    url: &str,
    node: Node,
    lease: std::time::Duration,
    history: &str,
    hot_tail: u64,
) -> Result<Store, StoreError> {
    let link = RedisLink::connect(url).await?;
    let archive = super::storage::archive::Archive::open(history).await?;
    Ok(Arc::new(RedisStore::new(link).await?.leased_by(node, lease).archived_to(archive, hot_tail)))
}
