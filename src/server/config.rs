//! Configuration: command-line flags, each with an environment fallback.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser};

use super::edge::EdgeLimits;
use super::fairness::AddressLimits;
use super::rate::RateLimit;
use super::room::RoomLimits;

/// What is logged unless `--log` / `RUST_LOG` says otherwise.
pub(super) const DEFAULT_LOG: &str = "info";

#[derive(Debug, Clone, Parser)]
#[command(name = "sketchboard", about = "A real-time multiplayer sketchboard server")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Where rooms are stored: sqlite://PATH (created if missing).
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/sketchboard.db")]
    pub database_url: String,

    /// Several nodes (see docs/operations.md): keep the rooms' logs in this
    /// Redis (redis://HOST:PORT), or in a Redis Cluster named by some of its
    /// nodes, comma-separated (redis://HOST:PORT,redis://HOST:PORT,…), shared
    /// by every node given the same URL. Unset, the SQLite store alone holds
    /// everything.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,

    /// With --redis-url: how many replicas must have received a change before
    /// it is acknowledged (Redis `WAIT`, in the append's round trip; a change
    /// they did not get within a second is refused, and its author re-sends).
    /// 0 trusts the primary's disk alone; Redis with replicas should say 1.
    #[arg(long, env = "SKETCHBOARD_REDIS_REPLICAS", default_value_t = 0)]
    pub redis_replicas: u32,

    /// With --redis-url: how long a node's lease on a room lasts (ms) without
    /// renewal (renewed every third of it). Only one node appends to a room,
    /// its owner; this is how soon the others take over a room whose owner
    /// died or hangs. Safety does not depend on it (docs/operations.md).
    #[arg(long, env = "SKETCHBOARD_LEASE_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(300..=600_000))]
    pub lease_ms: u64,

    /// With --redis-url: where the other nodes reach this one
    /// (http://HOST:PORT), to forward to it the sockets of the rooms it owns.
    /// Unset, the address it listens on (an unspecified IP as 127.0.0.1,
    /// which serves nodes on one machine only).
    #[arg(long, env = "SKETCHBOARD_ADVERTISE_URL")]
    pub advertise_url: Option<String>,

    /// With --redis-url: keep the rooms' history in this PostgreSQL
    /// (postgresql://USER@HOST:PORT/DB) and only the latest changes of each
    /// room in Redis (--hot-tail); the tables are made if missing.
    #[arg(long, env = "SKETCHBOARD_HISTORY_URL", requires = "redis_url")]
    pub history_url: Option<String>,

    /// With --history-url: how many of each room's latest changes stay in
    /// Redis; older ones are archived a segment at a time (and when the room
    /// goes idle) and trimmed from Redis.
    #[arg(long, env = "SKETCHBOARD_HOT_TAIL", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub hot_tail: u64,

    /// With --redis-url: load and call this build's Redis Functions under the
    /// next version's name, as the next build would with the same code, to
    /// rehearse a rolling upgrade with one binary (nodes of both versions
    /// sharing rooms). For tests and rehearsals; hidden from --help.
    #[arg(long, hide = true, requires = "redis_url")]
    pub rehearse_upgrade: bool,

    /// How browsers reach this server, comma-separated (e.g.
    /// https://board.example.com): the only names it answers to, and the
    /// pages that may open WebSockets. Unset, it answers to IP addresses and
    /// localhost only, which DNS rebinding cannot fake.
    #[arg(long, env = "SKETCHBOARD_PUBLIC_ORIGIN", value_delimiter = ',')]
    pub public_origin: Vec<String>,

    /// Further origins whose pages may open WebSockets, comma-separated.
    #[arg(long, env = "SKETCHBOARD_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Seconds an empty room stays loaded before it is unloaded.
    #[arg(long, env = "SKETCHBOARD_ROOM_IDLE_SECS", default_value_t = 30)]
    pub room_idle_secs: u64,

    /// Seconds a connection may stay silent (not even answering pings) before
    /// it is closed. The server pings every third of this.
    #[arg(long, env = "SKETCHBOARD_IDLE_TIMEOUT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_secs: u64,

    /// Rooms loaded at once. Joining a room that is not loaded when this many
    /// are gets a `server_busy` error (close 4005). Empty rooms unload after
    /// --room-idle-secs.
    #[arg(long, env = "SKETCHBOARD_MAX_ROOMS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_rooms: u64,

    /// Members (connections) per room; one more gets `room_full` (close 4004).
    #[arg(long, env = "SKETCHBOARD_MAX_MEMBERS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_members: u64,

    /// Messages per second a connection may send on average. Faster senders
    /// are read at this rate (nothing is dropped). A drag sends one message per
    /// display frame: 60 a second, 120 on fast displays.
    #[arg(long, env = "SKETCHBOARD_RATE_PER_SEC", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_per_sec: u32,

    /// Messages a connection may send at once above the average rate: room for
    /// a tab re-sending the edits it made offline.
    #[arg(long, env = "SKETCHBOARD_RATE_BURST", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_burst: u32,

    /// WebSockets one client address may have open at once (an IPv6 client
    /// counts by its /64). More get HTTP 429.
    #[arg(long, env = "SKETCHBOARD_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections_per_address: u64,

    /// Rooms one address may load a minute (rooms not loaded already). More
    /// get `too_many_rooms` (close 4006).
    #[arg(long, env = "SKETCHBOARD_ROOMS_OPENED_PER_MINUTE", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    pub rooms_opened_per_minute: u32,

    /// New rooms one address may store an hour (by making their first
    /// change). More have that change refused with `too_many_rooms`.
    #[arg(long, env = "SKETCHBOARD_ROOMS_CREATED_PER_HOUR", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    pub rooms_created_per_hour: u32,

    /// MiB of changes sent in parts (imports, restores: changes too large for
    /// one message) the server holds at once while they arrive, all
    /// connections together; one address may hold a quarter of it.
    #[arg(long, env = "SKETCHBOARD_PARTS_BUDGET_MIB", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub parts_budget_mib: u32,

    /// Delete stored rooms nobody has opened for this many days (checked
    /// hourly). 0, the default, keeps every room for ever.
    #[arg(long, env = "SKETCHBOARD_EXPIRE_ROOMS_AFTER_DAYS", default_value_t = 0)]
    pub expire_rooms_after_days: u32,

    /// Reverse proxies whose X-Forwarded-For header names the client,
    /// comma-separated IP addresses. Unset, the header is ignored.
    #[arg(long, env = "SKETCHBOARD_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,

    /// Seconds a client has to send a request's headers before it is closed.
    #[arg(long, env = "SKETCHBOARD_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,

    /// Connections not in a request (sending headers, or idle between
    /// requests) at most; past it the one idle longest is closed.
    #[arg(long, env = "SKETCHBOARD_MAX_IDLE_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_idle_connections: u64,

    /// Let `GET /metrics` answer any address, not only loopback (put it
    /// behind your own access control then).
    #[arg(long, env = "SKETCHBOARD_METRICS_PUBLIC")]
    pub metrics_public: bool,

    /// How log lines are written: `text`, or `json` (one object a line).
    #[arg(long, env = "SKETCHBOARD_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    /// Copy every room of the SQLite database (`--database-url`) into the Redis
    /// at `--redis-url` (with --history-url, all but each room's hot tail into
    /// that archive), check each copy, and exit: the way from one node to
    /// several. Safe to repeat; stop the single node first.
    #[arg(long, requires = "redis_url")]
    pub copy_to_redis: bool,

    /// Log filter, in tracing's EnvFilter syntax.
    #[arg(long, env = "RUST_LOG", default_value = DEFAULT_LOG)]
    pub log: String,
}

impl Config {
    /// The defaults (clap's, the only place they are written; the
    /// environment is not read), with a database and address of the caller's
    /// choosing: for tests.
    pub fn for_database(addr: SocketAddr, database_url: impl Into<String>) -> Config {
        let command = Config::command().mut_args(|arg| arg.env(None::<&str>));
        let matches = command.get_matches_from(["sketchboard"]);
        // The defaults are this file's own: if they did not parse, no server could start.
        let mut config = Config::from_arg_matches(&matches).unwrap_or_else(|e| panic!("the defaults parse: {e}"));
        config.addr = addr;
        config.database_url = database_url.into();
        config
    }

    pub(crate) fn room_limits(&self) -> RoomLimits {
        RoomLimits {
            idle_grace: Duration::from_secs(self.room_idle_secs),
            max_rooms: usize::try_from(self.max_rooms).unwrap_or(usize::MAX),
            max_members: usize::try_from(self.max_members).unwrap_or(usize::MAX),
        }
    }

    pub(crate) fn address_limits(&self) -> AddressLimits {
        AddressLimits {
            max_connections: usize::try_from(self.max_connections_per_address).unwrap_or(usize::MAX),
            rooms_opened_per_minute: self.rooms_opened_per_minute,
            rooms_created_per_hour: self.rooms_created_per_hour,
        }
    }

    pub(crate) fn edge_limits(&self) -> EdgeLimits {
        EdgeLimits {
            header_timeout: Duration::from_secs(self.header_timeout_secs.max(1)),
            max_idle: usize::try_from(self.max_idle_connections).unwrap_or(usize::MAX),
        }
    }

    pub(crate) fn rate_limit(&self) -> RateLimit {
        RateLimit { per_sec: self.rate_per_sec, burst: self.rate_burst }
    }

    pub(crate) fn parts_budget_bytes(&self) -> usize {
        usize::try_from(self.parts_budget_mib).unwrap_or(usize::MAX).saturating_mul(1024 * 1024)
    }

    pub(crate) fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs.max(1))
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Config;

    /// The README's configuration table says what clap does: every flag, its
    /// environment variable and its default, and no flag more or less.
    #[test]
    fn the_readme_table_gives_every_flag_its_variable_and_default() {
        let readme = include_str!("../../README.md");
        let rows: Vec<Vec<String>> = readme
            .lines()
            .filter(|l| l.starts_with("| `--"))
            .map(|l| l.split('|').map(|cell| cell.trim().replace('`', "")).filter(|c| !c.is_empty()).collect())
            .collect();
        let command = Config::command();
        let flags: Vec<_> = command.get_arguments().filter(|a| a.get_long().is_some_and(|l| l != "help")).collect();
        assert_eq!(rows.len(), flags.len(), "one README row per flag");
        for arg in flags {
            let long = arg.get_long().unwrap_or_default();
            let row =
                rows.iter().find(|r| r[0] == format!("--{long}")).unwrap_or_else(|| panic!("--{long} in the README"));
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            // A flag without a variable has an empty cell, which the split drops.
            let (readme_env, readme_default) = if env.is_some() { (Some(&row[1]), &row[2]) } else { (None, &row[1]) };
            assert_eq!(env.as_ref(), readme_env, "--{long}'s variable");
            let default = match arg.get_default_values() {
                [] if matches!(arg.get_action(), clap::ArgAction::SetTrue) => "off".to_owned(),
                [] => "(none)".to_owned(),
                [one, ..] => one.to_string_lossy().into_owned(),
            };
            let readme_default = readme_default.split(" (").next().unwrap_or_default();
            assert_eq!(default, readme_default, "--{long}'s default");
        }
    }

    /// What the tests run with is what a server started with no flags runs with.
    #[test]
    fn the_test_configuration_is_the_default_one() {
        let config = Config::for_database("127.0.0.1:0".parse().unwrap(), "sqlite://x.db");
        assert_eq!((config.room_idle_secs, config.max_rooms, config.rate_per_sec), (30, 5000, 200));
        assert_eq!(config.log, super::DEFAULT_LOG);
        assert!(config.redis_url.is_none() && !config.metrics_public && !config.copy_to_redis);
    }
}
