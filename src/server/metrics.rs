//! What the server counts, for `GET /metrics` (Prometheus / OpenMetrics text):
//! connections, rooms, changes accepted and refused, members sent to
//! resync, commits (latency and size), bytes written, limits that refused
//! someone. One `Metrics` per running server, shared by every part that counts.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A reason, as a label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Why {
    pub why: &'static str,
}

/// Who handed a message to a member's socket, as a label: the room, writing
/// to a caught-up member's socket itself, or the member's own connection.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct By {
    pub by: &'static str,
}

/// An error code, as a label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Code {
    pub code: String,
}

pub struct Metrics {
    registry: Registry,
    /// Open WebSockets.
    pub connections: Gauge,
    pub rooms_loaded: Gauge,
    pub changes_accepted: Counter,
    pub changes_refused: Family<Code, Counter>,
    /// Members closed with 4000: behind what the feed keeps, or their room restarted.
    pub resyncs: Family<Why, Counter>,
    /// Seconds from a transaction's start to its commit (fsync included).
    pub commit_seconds: Histogram,
    /// Changes per commit.
    pub commit_changes: Histogram,
    /// Idle connections closed to make room.
    pub evicted: Counter,
    /// Messages from rooms' feeds handed to members' sockets, by who handed them.
    pub deliveries: Family<By, Counter>,
    /// Requests and joins a per-address limit refused.
    pub limited: Family<Why, Counter>,
    /// Picture requests (`/r/{room}.png` and friends), by how they were answered.
    pub pictures: Family<Why, Counter>,
    /// Picture requests waiting for a turn to draw.
    pub pictures_waiting: Gauge,
    /// Rooms whose shared log was found to have lost changes a node had
    /// recorded or read (a Redis failover to a replica that lacked them).
    pub log_rewinds: Counter,
    /// Rooms this node stopped writing because another node took them over
    /// (its lease ran out while it was paused or cut off: `room::lease`).
    pub leases_lost: Counter,
    /// Appends refused because another appender moved the room's head first
    /// (a lost compare-and-set race): the room caught up and judged its
    /// changes again. With one owner per room, about zero.
    pub append_races: Counter,
    /// WebSockets this node passed on to the node that owns their room (`forward`).
    pub sockets_forwarded: Counter,
    /// Bytes this process has made the disk write (`/proc/self/io`), read at each scrape.
    bytes_written: Gauge,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("sketchboard");
        let m = Metrics {
            connections: Gauge::default(),
            rooms_loaded: Gauge::default(),
            changes_accepted: Counter::default(),
            changes_refused: Family::default(),
            resyncs: Family::default(),
            // 100 µs to about 3 s.
            commit_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            // 1 to 512.
            commit_changes: Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            evicted: Counter::default(),
            deliveries: Family::default(),
            limited: Family::default(),
            pictures: Family::default(),
            pictures_waiting: Gauge::default(),
            log_rewinds: Counter::default(),
            leases_lost: Counter::default(),
            append_races: Counter::default(),
            sockets_forwarded: Counter::default(),
            bytes_written: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("connections", "Open WebSockets", m.connections.clone());
        registry.register("rooms_loaded", "Rooms loaded in memory", m.rooms_loaded.clone());
        registry.register("changes_accepted", "Changes accepted and recorded", m.changes_accepted.clone());
        registry.register("changes_refused", "Changes refused, by error code", m.changes_refused.clone());
        registry.register("resyncs", "Connections closed for a resync (4000), by reason", m.resyncs.clone());
        registry.register("commit_seconds", "Time to commit a batch of changes", m.commit_seconds.clone());
        registry.register("commit_changes", "Changes per commit", m.commit_changes.clone());
        registry.register("connections_evicted", "Idle connections closed to make room", m.evicted.clone());
        registry.register(
            "deliveries",
            "Messages from rooms handed to members' sockets, by who wrote them (room or member)",
            m.deliveries.clone(),
        );
        registry.register(
            "leases_lost",
            "Rooms this node stopped writing because another node took them over",
            m.leases_lost.clone(),
        );
        registry.register(
            "append_races",
            "Appends that found another appender had moved the room's head first (the room caught up and tried again)",
            m.append_races.clone(),
        );
        registry.register(
            "sockets_forwarded",
            "WebSockets passed on to the node that owns their room",
            m.sockets_forwarded.clone(),
        );
        registry.register(
            "log_rewinds",
            "Times a room's shared log had lost changes this node recorded or read (a Redis failover to a replica behind); the room took a new epoch",
            m.log_rewinds.clone(),
        );
        registry.register("limited", "Requests refused by a per-address limit, by limit", m.limited.clone());
        registry.register(
            "pictures",
            "Picture requests, by answer: drawn, kept (drawn before), shared (another's drawing), busy",
            m.pictures.clone(),
        );
        registry.register(
            "pictures_waiting",
            "Picture requests waiting for a turn to draw",
            m.pictures_waiting.clone(),
        );
        registry.register("disk_written_bytes", "Bytes the process made the disk write", m.bytes_written.clone());
        Arc::new(Metrics { registry, ..m })
    }

    /// Everything, in OpenMetrics text.
    pub fn render(&self) -> String {
        if let Some(bytes) = disk_written_bytes() {
            self.bytes_written.set(bytes);
        }
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "could not encode the metrics");
        }
        out
    }
}

/// `write_bytes` of `/proc/self/io`, where there is one.
fn disk_written_bytes() -> Option<i64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines().find_map(|line| line.strip_prefix("write_bytes:")).and_then(|n| n.trim().parse().ok())
}
