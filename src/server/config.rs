//! Configuration: command-line flags, each with an environment fallback.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Parser;

use super::edge::EdgeLimits;
use super::fairness::AddressLimits;
use super::rate::RateLimit;
use super::room::RoomLimits;

/// What is logged unless `--log` / `RUST_LOG` says otherwise.
pub const DEFAULT_LOG: &str = "info";

#[derive(Debug, Clone, Parser)]
#[command(name = "sketchboard", about = "A real-time multiplayer sketchboard server")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Where rooms are stored: sqlite://PATH (created if missing).
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/sketchboard.db")]
    pub database_url: String,

    /// Several nodes (early: see docs/operations.md): keep the rooms' logs in
    /// this Redis (redis://HOST:PORT), shared by every node given the same
    /// URL. Unset, the SQLite store alone holds everything.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,

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
    /// at `--redis-url`, check each copy, and exit: the way from one node to
    /// several. Safe to repeat; stop the single node first.
    #[arg(long, requires = "redis_url")]
    pub copy_to_redis: bool,

    /// Log filter, in tracing's EnvFilter syntax.
    #[arg(long, env = "RUST_LOG", default_value = DEFAULT_LOG)]
    pub log: String,
}

impl Config {
    /// The defaults, with a database and address of the caller's choosing: for tests.
    pub fn for_database(addr: SocketAddr, database_url: impl Into<String>) -> Config {
        Config {
            addr,
            database_url: database_url.into(),
            redis_url: None,
            public_origin: Vec::new(),
            allowed_origins: Vec::new(),
            room_idle_secs: 30,
            idle_timeout_secs: 60,
            max_rooms: 5000,
            max_members: 1000,
            rate_per_sec: 200,
            rate_burst: 1000,
            max_connections_per_address: 500,
            rooms_opened_per_minute: 60,
            rooms_created_per_hour: 60,
            trusted_proxies: Vec::new(),
            expire_rooms_after_days: 0,
            header_timeout_secs: 10,
            max_idle_connections: 1024,
            metrics_public: false,
            log_format: "text".into(),
            copy_to_redis: false,
            log: DEFAULT_LOG.into(),
        }
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

    pub(crate) fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs.max(1))
    }
}
