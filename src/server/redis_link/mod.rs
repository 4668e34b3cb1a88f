//! A node's connection to the Redis that several nodes share, one server or a
//! Redis Cluster: the rooms' logs (`storage::redis`) and what passes between
//! the nodes (`peers`) both go through it. Cheap to clone. Every key of a room
//! carries the room as its hash tag (`sb:{room}:…`), so a room's keys sit in
//! one slot of a cluster and one Function call on them stays atomic; `conn`
//! hides which kind of Redis it is, `listen` how a room's channels are heard.
//!
//! The Functions libraries are versioned by name: this build's are
//! `sketchboard_v{FUNCTIONS_VERSION}` and `sketchboard_peers_v…`, and each of
//! their functions carries the version too (`sb_append_v6`), so nodes of two
//! builds can share one Redis during a rolling upgrade, each calling its own
//! code. A node loads its version's libraries on every primary when it
//! connects and never replaces a library: one already there under this
//! version must be this code, else the node refuses to start. A primary that
//! lacks them later (a new or flushed server, a replica promoted, a primary
//! that took over slots) gets them loaded again by the first call that misses
//! them (`RedisLink::call`).

mod conn;
mod listen;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::FromRedisValue;
use redis::aio::ConnectionManager;
use redis::cluster::ClusterClientBuilder;

pub(crate) use conn::Conn;
pub(crate) use listen::Listener;
use listen::Shards;
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

/// The version of this build's Functions: in the name of each library and
/// of each function. Bump it whenever a library's code changes (a test holds
/// the code's hash to it).
pub const FUNCTIONS_VERSION: u32 = 6;

/// A library's code under `version`: `{version}` in its source (its name,
/// its functions' names) becomes the number.
fn versioned(source: &str, version: u32) -> String {
    source.replace("{version}", &version.to_string())
}

/// How a room's channels are listened to.
#[derive(Clone)]
enum Channels {
    /// Plain Pub/Sub, a connection per room.
    Single(redis::Client),
    /// Sharded Pub/Sub, one connection for the node.
    Sharded(Shards),
}

/// The connection, and this node's name among the nodes.
#[derive(Clone)]
pub(super) struct RedisLink {
    conn: Conn,
    channels: Channels,
    /// This node's name among the nodes (random, new at every start).
    node: String,
    /// The libraries loaded so far (their sources), to load again where missing.
    libraries: Arc<Mutex<Vec<&'static str>>>,
    /// How many replicas must have a write before it counts (`call_durable`).
    replicas: u32,
    /// The version of the Functions it loads and calls: this build's
    /// (`FUNCTIONS_VERSION`), or the next one's in a rehearsal of an upgrade.
    version: u32,
}

/// Whether a write reached the replicas required (`RedisLink::call_durable`):
/// `check` it before acknowledging what was written.
#[must_use]
pub(crate) struct Replicated(redis::RedisResult<()>);

impl Replicated {
    pub(crate) fn check(self) -> redis::RedisResult<()> {
        self.0
    }
}

/// How long a write waits for its replicas before it is refused.
const REPLICATED_WITHIN_MS: u64 = 1000;

/// How long a node waits for Redis: a change that cannot be recorded must be
/// refused soon (its author resyncs and re-sends), not wait for it.
const CONNECTING: Duration = Duration::from_secs(1);
const ANSWERING: Duration = Duration::from_secs(5);

impl RedisLink {
    /// Connects to `url`: one Redis (`redis://HOST:PORT`), or a Redis Cluster
    /// by the addresses of some of its nodes, comma-separated.
    pub(super) async fn connect(url: &str) -> Result<RedisLink, RedisError> {
        let node = format!("{:016x}", rand::random::<u64>());
        let addresses: Vec<&str> = url.split(',').map(str::trim).filter(|a| !a.is_empty()).collect();
        if let [one] = addresses[..] {
            let client = redis::Client::open(one).map_err(failed("reading the Redis URL"))?;
            let config = redis::aio::ConnectionManagerConfig::new()
                .set_number_of_retries(2)
                .set_max_delay(Duration::from_millis(500))
                .set_connection_timeout(Some(CONNECTING))
                .set_response_timeout(Some(ANSWERING));
            let conn = ConnectionManager::new_with_config(client.clone(), config)
                .await
                .map_err(failed("connecting to Redis"))?;
            let info: String = redis::cmd("INFO")
                .arg("cluster")
                .query_async(&mut conn.clone())
                .await
                .map_err(failed("asking Redis whether it is a cluster"))?;
            // One node of a cluster named alone: the cluster client finds the rest.
            if !info.contains("cluster_enabled:1") {
                let channels = Channels::Single(client);
                return Ok(RedisLink {
                    conn: Conn::Single(conn),
                    channels,
                    node,
                    libraries: Arc::default(),
                    replicas: 0,
                    version: FUNCTIONS_VERSION,
                });
            }
        }
        let cluster = || {
            ClusterClientBuilder::new(addresses.clone())
                .connection_timeout(CONNECTING)
                .response_timeout(ANSWERING)
                .retries(2)
                .max_retry_wait(500)
        };
        let client = cluster().build().map_err(failed("reading the Redis Cluster's addresses"))?;
        let conn = client.get_async_connection().await.map_err(failed("connecting to the Redis Cluster"))?;
        let (pushes, pushed) = tokio::sync::mpsc::unbounded_channel();
        let listening = cluster()
            .use_protocol(redis::ProtocolVersion::RESP3)
            .push_sender(pushes)
            .build()
            .map_err(failed("reading the Redis Cluster's addresses"))?;
        let listening =
            listening.get_async_connection().await.map_err(failed("connecting to the Redis Cluster to listen"))?;
        let channels = Channels::Sharded(Shards::new(listening, pushed));
        let libraries = Arc::default();
        Ok(RedisLink { conn: Conn::Cluster(conn), channels, node, libraries, replicas: 0, version: FUNCTIONS_VERSION })
    }

    /// The same link, counting a write only once `replicas` replicas have it.
    pub(super) fn with_replicas(mut self, replicas: u32) -> RedisLink {
        self.replicas = replicas;
        self
    }

    /// The same link, loading and calling this build's Functions under the
    /// next version's name, as the next build would with the same code
    /// (`--rehearse-upgrade`: a rolling upgrade rehearsed with one binary).
    pub(super) fn rehearsing_upgrade(mut self) -> RedisLink {
        self.version = FUNCTIONS_VERSION + 1;
        self
    }

    /// Starts an `FCALL` of this link's version of function `name` (in
    /// version 6, `sb_append` calls `sb_append_v6`); run it with `call`.
    pub(crate) fn fcall(&self, name: &str) -> redis::Cmd {
        let mut call = redis::cmd("FCALL");
        call.arg(format!("{name}_v{}", self.version));
        call
    }

    /// A handle on the shared connection (cheap: it multiplexes).
    pub(crate) fn conn(&self) -> Conn {
        self.conn.clone()
    }

    /// This node's name among the nodes.
    pub(crate) fn node(&self) -> &str {
        &self.node
    }

    /// The command that announces on a room's channel: `SPUBLISH` on a
    /// cluster (sharded Pub/Sub), `PUBLISH` on one Redis.
    pub(crate) fn publish_command(&self) -> &'static str {
        match self.channels {
            Channels::Single(_) => "PUBLISH",
            Channels::Sharded(_) => "SPUBLISH",
        }
    }

    /// Starts `PUBLISH` (or `SPUBLISH`) of `said` on `channel`.
    pub(crate) fn publish(&self, channel: &str, said: &str) -> redis::Cmd {
        redis::cmd(self.publish_command()).arg(channel).arg(said).clone()
    }

    /// Subscribes to one room's `channels`.
    pub(crate) async fn listen(&self, channels: &[String]) -> redis::RedisResult<Listener> {
        match &self.channels {
            Channels::Single(client) => Listener::single(client, channels).await,
            Channels::Sharded(shards) => Listener::sharded(shards, channels).await,
        }
    }

    /// Loads this build's version of a Functions library (`source`, its
    /// names written with `{version}`), unless it is there already; never
    /// replaces one. Fails if a library of this name holds other code.
    pub(crate) async fn load_functions(&self, source: &'static str) -> Result<(), RedisError> {
        if let Ok(mut libraries) = self.libraries.lock()
            && !libraries.contains(&source)
        {
            libraries.push(source);
        }
        self.load(source).await
    }

    /// Loads `source` on every primary; where it is there already, checks
    /// that it is this code.
    async fn load(&self, source: &str) -> Result<(), RedisError> {
        let code = versioned(source, self.version);
        let name = library_name(&code);
        let loading = redis::cmd("FUNCTION").arg("LOAD").arg(&code).clone();
        let listing = redis::cmd("FUNCTION").arg("LIST").arg("LIBRARYNAME").arg(name).arg("WITHCODE").clone();
        for primary in self.conn.primaries().await.map_err(failed("finding the Redis primaries"))? {
            let e = match self.conn.on(&primary, &loading).await {
                Ok(_) => continue,
                Err(e) if e.to_string().contains("already exists") => e,
                Err(e) => return Err(RedisError { doing: "loading the Redis functions", source: e }),
            };
            let found = self.conn.on(&primary, &listing).await.map_err(failed("reading a loaded Functions library"))?;
            if library_code(&found, name).as_deref() != Some(code.as_str()) {
                tracing::error!(library = name, ?primary, "Redis holds other code under this build's library version");
                return Err(RedisError { doing: "loading the Redis functions", source: e });
            }
        }
        Ok(())
    }

    /// Runs `call` (an `fcall`). Where the Redis it reached has no such
    /// function, loads this build's libraries there and tries once more (the
    /// function did not run, so trying again is safe).
    pub(crate) async fn call<T: FromRedisValue>(&self, call: &redis::Cmd) -> redis::RedisResult<T> {
        debug_assert!(one_slot(call), "a Function's keys span slots: {:?}", call.args_iter().collect::<Vec<_>>());
        match call.query_async(&mut self.conn()).await {
            Err(e) if e.to_string().contains("Function not found") => {
                self.reload().await?;
                call.query_async(&mut self.conn()).await
            }
            other => other,
        }
    }

    /// Runs `call` (an `fcall` that may write what is acknowledged) as `call`
    /// does, and answers with its reply a `Replicated` to check before
    /// acknowledging what it wrote: with replicas required
    /// (`--redis-replicas`), the call is followed in the same round trip, on
    /// the same primary, by `WAIT`. (A reply that wrote nothing needs no
    /// check: a refused append is not an error of replication.)
    pub(crate) async fn call_durable<T: FromRedisValue>(
        &self,
        call: &redis::Cmd,
    ) -> redis::RedisResult<(T, Replicated)> {
        if self.replicas == 0 {
            return Ok((self.call(call).await?, Replicated(Ok(()))));
        }
        debug_assert!(one_slot(call), "a Function's keys span slots: {:?}", call.args_iter().collect::<Vec<_>>());
        let mut pipe = redis::pipe();
        pipe.add_command(call.clone()).cmd("WAIT").arg(self.replicas).arg(REPLICATED_WITHIN_MS);
        let (answer, replicated): (T, u32) = match pipe.query_async(&mut self.conn()).await {
            Err(e) if e.to_string().contains("Function not found") => {
                self.reload().await?;
                pipe.query_async(&mut self.conn()).await?
            }
            other => other?,
        };
        if replicated < self.replicas {
            let detail = format!(
                "{replicated} of the {} replicas required had it within {REPLICATED_WITHIN_MS} ms",
                self.replicas
            );
            let short = redis::RedisError::from((redis::ErrorKind::Io, "a write was not replicated", detail));
            return Ok((answer, Replicated(Err(short))));
        }
        Ok((answer, Replicated(Ok(()))))
    }

    /// Loads this build's libraries again, on every primary that lacks them.
    async fn reload(&self) -> redis::RedisResult<()> {
        let libraries = self.libraries.lock().map(|l| l.clone()).unwrap_or_default();
        tracing::warn!("a Redis primary lacks this build's functions: loading them again");
        for library in libraries {
            self.load(library).await.map_err(|e| e.source)?;
        }
        Ok(())
    }
}

/// Whether every key an `FCALL` declares has the same hash tag, so that under
/// Redis Cluster they sit in one slot and the call stays one atomic step (a
/// key without a tag counts whole).
fn one_slot(call: &redis::Cmd) -> bool {
    let args: Vec<&[u8]> =
        call.args_iter().filter_map(|a| if let redis::Arg::Simple(a) = a { Some(a) } else { None }).collect();
    let count = args.get(2).and_then(|n| std::str::from_utf8(n).ok()).and_then(|n| n.parse::<usize>().ok());
    let keys = args.iter().skip(3).take(count.unwrap_or(0));
    let tags: Vec<&[u8]> = keys.map(|k| conn::slot_tag(k)).collect();
    tags.windows(2).all(|pair| pair[0] == pair[1])
}

/// The name in a library's `#!lua name=…` line.
fn library_name(code: &str) -> &str {
    let first = code.lines().next().unwrap_or_default();
    first.split_once("name=").map_or("", |(_, name)| name.split_whitespace().next().unwrap_or_default())
}

/// The code of library `name` in a `FUNCTION LIST … WITHCODE` reply: the
/// value after `library_code`, in the entry that names it.
fn library_code(reply: &redis::Value, name: &str) -> Option<String> {
    let text = |v: &redis::Value| redis::from_redis_value_ref::<String>(v).ok();
    let items: Vec<&redis::Value> = match reply {
        redis::Value::Array(items) | redis::Value::Set(items) => items.iter().collect(),
        redis::Value::Map(pairs) => pairs.iter().flat_map(|(k, v)| [k, v]).collect(),
        _ => return None,
    };
    let named = items.iter().any(|v| text(v).as_deref() == Some(name));
    let at = items.iter().position(|v| text(v).as_deref() == Some("library_code"));
    if named && let Some(code) = at.and_then(|i| items.get(i + 1)).and_then(|v| text(v)) {
        return Some(code);
    }
    items.into_iter().find_map(|v| library_code(v, name))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// FNV-1a of `text`: a fingerprint of the libraries' code.
    fn fingerprint(text: &str) -> u64 {
        text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
    }

    #[test]
    fn a_change_to_the_functions_comes_with_a_new_version() {
        let storage = include_str!("../storage/redis/functions.lua");
        let peers = include_str!("../peers/functions.lua");
        // When this fails, the Functions changed: bump FUNCTIONS_VERSION, then
        // record the new fingerprint here with it. Nodes of the last build keep
        // calling their own version's code meanwhile.
        let recorded = [
            (1, 0x10a4_3428_20c0_283c_u64),
            (2, 0xa9df_08c8_86c0_96cc),
            (3, 0xfe45_e893_347e_aced),
            (4, 0x539a_2d89_65d4_31e9),
            (5, 0x7caf_9d1a_5eb5_fb86),
            (6, 0x0fbb_bccc_22c6_c677),
        ];
        let now = fingerprint(&format!("{storage}{peers}"));
        assert!(recorded.contains(&(FUNCTIONS_VERSION, now)), "version {FUNCTIONS_VERSION}, code {now:#018x}");
    }

    fn fcall(name: &str) -> redis::Cmd {
        let mut call = redis::cmd("FCALL");
        call.arg(format!("{name}_v{FUNCTIONS_VERSION}"));
        call
    }

    #[test]
    fn a_calls_keys_are_in_one_slot_when_they_share_a_tag() {
        let room =
            fcall("sb_snapshot").arg(3).arg("sb:{r1}:meta").arg("sb:{r1}:snap").arg("sb:{r1}:frames").arg(1).clone();
        assert!(one_slot(&room));
        let spanning = fcall("sb_expire").arg(2).arg("sb:{r1}:meta").arg("sb:opened").arg("x").clone();
        assert!(!one_slot(&spanning));
        // Arguments after the keys do not count.
        assert!(one_slot(&fcall("sb_opened").arg(1).arg("sb:{r1}:meta").arg("sb:opened").clone()));
    }

    #[test]
    fn every_library_and_function_carries_the_version() {
        for source in [include_str!("../storage/redis/functions.lua"), include_str!("../peers/functions.lua")] {
            let code = versioned(source, FUNCTIONS_VERSION);
            assert!(library_name(&code).ends_with(&format!("_v{FUNCTIONS_VERSION}")), "{}", library_name(&code));
            let registered: Vec<&str> = code.split("register_function('").skip(1).collect();
            assert!(!registered.is_empty());
            for r in registered {
                assert!(r.split('\'').next().is_some_and(|f| f.ends_with(&format!("_v{FUNCTIONS_VERSION}"))), "{r}");
            }
        }
    }
}
