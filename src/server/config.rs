//! Configuration: command-line flags, each with an environment fallback.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

#[derive(Debug, Clone, Parser)]
#[command(name = "sketchboard", about = "A real-time multiplayer sketchboard server")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Where rooms are stored: sqlite://PATH (created if missing).
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/sketchboard.db")]
    pub database_url: String,

    /// Extra origins allowed to open WebSockets, comma-separated
    /// (e.g. https://board.example.com). The page's own origin is always allowed.
    #[arg(long, env = "SKETCHBOARD_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Seconds an empty room stays loaded before it is unloaded.
    #[arg(long, env = "SKETCHBOARD_ROOM_IDLE_SECS", default_value_t = 30)]
    pub room_idle_secs: u64,

    /// Seconds a connection may stay silent (not even answering pings) before
    /// it is closed. The server pings every third of this.
    #[arg(long, env = "SKETCHBOARD_IDLE_TIMEOUT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_secs: u64,

    /// Log filter, in tracing's EnvFilter syntax.
    #[arg(long, env = "RUST_LOG", default_value = "info,sketchboard=info")]
    pub log: String,
}

impl Config {
    /// The defaults, with a database and address of the caller's choosing: for tests.
    pub fn for_database(addr: SocketAddr, database_url: impl Into<String>) -> Config {
        Config {
            addr,
            database_url: database_url.into(),
            allowed_origins: Vec::new(),
            room_idle_secs: 30,
            idle_timeout_secs: 60,
            log: "info".into(),
        }
    }

    pub fn idle_grace(&self) -> Duration {
        Duration::from_secs(self.room_idle_secs)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs.max(1))
    }
}
