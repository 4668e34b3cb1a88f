//! A node's connection to the Redis that several nodes share: the rooms' logs
//! (`storage::redis`) and what passes between the nodes (`peers`) both go
//! through it. Cheap to clone. Every key of a room carries the room as its
//! hash tag (`sb:{room}:…`), so a room's keys stay together under Redis Cluster.

use std::time::Duration;

use redis::aio::ConnectionManager;

use sketchboard_core::model::RoomName;

/// A failure talking to Redis, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("Redis failed while {doing}: {source}")]
pub struct RedisError {
    pub doing: &'static str,
    #[source]
    pub source: redis::RedisError,
}

/// Wraps a `redis` error with what was being done.
pub(crate) fn failed(doing: &'static str) -> impl FnOnce(redis::RedisError) -> RedisError {
    move |source| RedisError { doing, source }
}

/// The connection, and this node's name among the nodes.
#[derive(Clone)]
pub(super) struct RedisLink {
    /// For connections of their own (Pub/Sub subscriptions).
    pub(crate) client: redis::Client,
    conn: ConnectionManager,
    /// This node's name among the nodes (random, new at every start).
    node: String,
}

impl RedisLink {
    /// Connects to `url` (`redis://HOST:PORT`).
    pub(super) async fn connect(url: &str) -> Result<RedisLink, RedisError> {
        let client = redis::Client::open(url).map_err(failed("reading the Redis URL"))?;
        // Fail fast while Redis is away: a change that cannot be recorded must
        // be refused soon (its author resyncs and re-sends), not wait for it.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500))
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let conn =
            ConnectionManager::new_with_config(client.clone(), config).await.map_err(failed("connecting to Redis"))?;
        let node = format!("{:016x}", rand::random::<u64>());
        Ok(RedisLink { client, conn, node })
    }

    /// A handle on the shared connection (cheap: it multiplexes).
    pub(crate) fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// This node's name among the nodes.
    pub(crate) fn node(&self) -> &str {
        &self.node
    }

    /// Loads (or replaces) a Functions library.
    pub(crate) async fn load_functions(&self, library: &str) -> Result<(), RedisError> {
        let _: String = redis::cmd("FUNCTION")
            .arg("LOAD")
            .arg("REPLACE")
            .arg(library)
            .query_async(&mut self.conn())
            .await
            .map_err(failed("loading the Redis functions"))?;
        Ok(())
    }
}

/// The key of one part of a room's state: `sb:{room}:part`.
pub(crate) fn room_key(room: &RoomName, part: &str) -> String {
    format!("sb:{{{room}}}:{part}")
}

/// The Pub/Sub channel that announces a room's changes to every node: the
/// storage's Functions publish on it whenever the room's log grows (its new
/// head) or its view-only link is replaced (`revoked`); `peers` listens.
pub(crate) fn wake_channel(room: &RoomName) -> String {
    room_key(room, "tail")
}
