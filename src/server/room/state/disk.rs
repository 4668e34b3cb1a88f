//! What is worth writing besides the changes themselves: a snapshot only
//! once the log since the last one outweighs it, the room's lobby line at most
//! once a minute, the client marks only with a snapshot (see `storage` for
//! why that keeps every acknowledged change exactly-once).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::server::storage::{LoadedRoom, SNAPSHOT_EVERY, SNAPSHOT_LOG_BYTES};
use sketchboard_core::model::ClientId;

/// How often, at most, the room's lobby line is brought up to date.
pub(super) const REFRESH_ROW_EVERY: Duration = Duration::from_secs(60);

/// Where the room's record on disk stands.
#[derive(Debug)]
pub(super) struct DiskState {
    /// Whether the room is stored (it is with its first change).
    pub(super) stored: bool,
    /// Whether the lobby line lags what is recorded.
    pub(super) row_stale: bool,
    since_snapshot: u64,
    log_bytes_since_snapshot: usize,
    snapshot_bytes: usize,
    /// Clients whose mark moved since the last snapshot.
    pub(super) marks_moved: HashSet<ClientId>,
    row_refreshed: Instant,
}

impl DiskState {
    pub(super) fn loaded(room: &LoadedRoom, now: Instant) -> DiskState {
        DiskState {
            stored: room.epoch.is_some(),
            row_stale: false,
            since_snapshot: room.since_snapshot,
            log_bytes_since_snapshot: room.log_bytes_since_snapshot,
            snapshot_bytes: room.snapshot_bytes,
            // Marks the log vouches for are the ones to write with the next snapshot.
            marks_moved: room.last_ops.keys().cloned().collect(),
            row_refreshed: now,
        }
    }

    /// Whether a snapshot is worth writing with `accepted` more changes of `bytes`.
    pub(super) fn snapshot_due(&self, accepted: u64, bytes: usize) -> bool {
        let log_bytes = self.log_bytes_since_snapshot + bytes;
        (self.since_snapshot + accepted >= SNAPSHOT_EVERY || log_bytes >= SNAPSHOT_LOG_BYTES)
            && log_bytes >= self.snapshot_bytes
    }

    /// Whether the lobby line is due to be brought up to date at `now`.
    pub(super) fn refresh_due(&self, now: Instant) -> bool {
        now.duration_since(self.row_refreshed) >= REFRESH_ROW_EVERY
    }

    /// A commit of `accepted` changes (`bytes` of them), by these clients, was recorded at `now`.
    pub(super) fn recorded<'a>(
        &mut self,
        now: Instant,
        clients: impl Iterator<Item = &'a ClientId>,
        bytes: usize,
        snapshot_bytes: Option<usize>,
        refreshed: bool,
    ) {
        let first = !self.stored;
        self.stored = true;
        // The first change, a snapshot and a refresh all bring the lobby line up to date.
        self.row_stale = !(refreshed || snapshot_bytes.is_some() || first);
        if !self.row_stale {
            self.row_refreshed = now;
        }
        if let Some(size) = snapshot_bytes {
            self.snapshot_bytes = size;
            self.since_snapshot = 0;
            self.log_bytes_since_snapshot = 0;
            self.marks_moved.clear();
            return;
        }
        for client in clients {
            self.since_snapshot += 1;
            self.marks_moved.insert(client.clone());
        }
        self.log_bytes_since_snapshot += bytes;
    }

    /// A change another node recorded (several nodes) counts toward the next snapshot.
    pub(super) fn followed(&mut self, client: &ClientId, bytes: usize) {
        self.stored = true;
        self.since_snapshot += 1;
        self.log_bytes_since_snapshot += bytes;
        self.marks_moved.insert(client.clone());
    }

    /// The lobby line was brought up to date at `now`.
    pub(super) fn row_refreshed(&mut self, now: Instant) {
        self.row_stale = false;
        self.row_refreshed = now;
    }
}
