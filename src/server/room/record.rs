//! Staging and recording a batch: each change judged and staged, then one
//! commit for everything staged, then the broadcast.
//! And what is worth writing besides the changes themselves: a snapshot only
//! once the log since the last one outweighs it, the room's row (for the
//! lobby) at most once a minute, the client marks only with a snapshot (see
//! `storage` for why that keeps every acknowledged change exactly-once).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;

use super::feed::To;
use super::{ConnId, Room, Staged};
use crate::model::{Change, ClientId};
use crate::protocol::{ErrorCode, MAX_MESSAGE_BYTES, MAX_OP_JUMP, ServerMsg, in_parts};
use crate::server::metrics::{Code, Why};
use crate::server::storage::{Append, LoadedRoom, Record, SNAPSHOT_EVERY, SNAPSHOT_LOG_BYTES, Snapshot, StoreError};

/// Several nodes: rounds of "another node appended first" a batch may lose
/// before the room resyncs (see `follow`).
const CONFLICT_RETRIES: usize = 8;

/// How often, at most, the room's row is brought up to date.
const REFRESH_ROW_EVERY: Duration = Duration::from_secs(60);

/// Where the room's record on disk stands.
#[derive(Debug)]
pub(super) struct DiskState {
    /// Whether the room has its row (it gets one with its first change).
    stored: bool,
    /// Whether the row lags what is recorded.
    row_stale: bool,
    since_snapshot: u64,
    log_bytes_since_snapshot: usize,
    snapshot_bytes: usize,
    /// Clients whose mark moved since the last snapshot.
    marks_moved: HashSet<ClientId>,
    row_refreshed: Instant,
}

impl Default for DiskState {
    fn default() -> Self {
        DiskState {
            stored: false,
            row_stale: false,
            since_snapshot: 0,
            log_bytes_since_snapshot: 0,
            snapshot_bytes: 0,
            marks_moved: HashSet::new(),
            row_refreshed: Instant::now(),
        }
    }
}

impl DiskState {
    pub(super) fn loaded(room: &LoadedRoom) -> DiskState {
        DiskState {
            stored: room.epoch.is_some(),
            row_stale: false,
            since_snapshot: room.since_snapshot,
            log_bytes_since_snapshot: room.log_bytes_since_snapshot,
            snapshot_bytes: room.snapshot_bytes,
            // Marks the log vouches for are the ones to write with the next snapshot.
            marks_moved: room.last_ops.keys().cloned().collect(),
            row_refreshed: Instant::now(),
        }
    }

    /// Whether a snapshot is worth writing with `accepted` more changes of `bytes`.
    fn snapshot_due(&self, accepted: u64, bytes: usize) -> bool {
        let log_bytes = self.log_bytes_since_snapshot + bytes;
        (self.since_snapshot + accepted >= SNAPSHOT_EVERY || log_bytes >= SNAPSHOT_LOG_BYTES)
            && log_bytes >= self.snapshot_bytes
    }
}

impl Room {
    /// Records the staged changes, then broadcasts them. If recording fails,
    /// the room reloads itself from storage (which drops whatever was not
    /// recorded) and closes every member's connection for a resync: their
    /// welcome then shows exactly what was recorded, and `last_op` tells each
    /// author which of its changes to send again. Only if the reload fails
    /// too does the room give up.
    pub(super) async fn flush(&mut self) -> Result<(), StoreError> {
        // Several nodes: another node appended first. Catch up with the log,
        // judge the same changes again against it, and try once more; a room
        // that keeps losing the race resyncs as below.
        for _ in 0..CONFLICT_RETRIES {
            match self.flush_once().await {
                Err(StoreError::HeadMoved { head }) => self.catch_up_and_restage(head).await?,
                done => {
                    self.asked.clear();
                    return done;
                }
            }
        }
        tracing::error!(room = %self.name, "kept losing the race to append; reloading and resyncing members");
        self.asked.clear();
        self.staged.clear();
        self.install(self.store.load_room(&self.name).await?);
        let everyone: Vec<ConnId> = self.members.keys().copied().collect();
        self.drop_members(everyone);
        Ok(())
    }

    async fn flush_once(&mut self) -> Result<(), StoreError> {
        if self.staged.is_empty() {
            return Ok(());
        }
        let staged = std::mem::take(&mut self.staged);
        let mut records = Vec::new();
        let mut creator = None;
        for s in &staged {
            if let Staged::Accepted { network, record, .. } = s {
                creator = creator.or_else(|| (!self.disk.stored).then(|| network.to_string()));
                records.push(record.clone());
            }
        }
        // Encoded once here, for the log's size and for the broadcast below.
        let messages: Vec<Vec<(Utf8Bytes, Utf8Bytes)>> = records.iter().map(applied_messages).collect();
        let bytes: usize = messages.iter().flatten().map(|(_, others)| others.len()).sum();
        let appended = if records.is_empty() { Ok(None) } else { self.record(records, creator, bytes).await.map(Some) };
        let wrote_snapshot = match appended {
            Ok(wrote) => wrote,
            Err(e @ StoreError::HeadMoved { .. }) => return Err(e),
            Err(e) => {
                tracing::error!(room = %self.name, error = %e, "could not record changes; reloading and resyncing members");
                self.install(self.store.load_room(&self.name).await?);
                let everyone: Vec<ConnId> = self.members.keys().copied().collect();
                self.drop_members(everyone);
                return Ok(());
            }
        };
        if let Some(wrote_snapshot) = wrote_snapshot {
            self.after_recording(wrote_snapshot, &staged, bytes);
            self.metrics.changes_accepted.inc_by(messages.len() as u64);
        }
        let mut messages = messages.into_iter();
        let mut out = Vec::with_capacity(staged.len());
        for staged in staged {
            match staged {
                Staged::Refused { member, msg } => out.push((To::One(member), msg)),
                Staged::Accepted { member, record, .. } => {
                    let Some(copies) = messages.next() else { break };
                    crate::server::storage::remember(&mut self.recent, record.change);
                    // Everyone gets the same bytes, but for the author, whose
                    // copy carries its `op` as the confirmation.
                    for (own, for_others) in copies {
                        out.push((To::AllWithOwnCopy { author: member, own }, for_others));
                    }
                }
            }
        }
        // All at once: a caught-up member's socket takes the batch in one write.
        self.feed.extend(out);
        Ok(())
    }

    /// One commit for `records`; whether it carried a snapshot.
    async fn record(
        &mut self,
        records: Vec<Record>,
        creator: Option<String>,
        bytes: usize,
    ) -> Result<bool, StoreError> {
        let snapshot = if self.disk.snapshot_due(records.len() as u64, bytes) {
            match serde_json::to_string(&self.board) {
                Ok(board) => {
                    let marks = self.disk.marks_moved.iter().filter_map(|c| Some((c.clone(), *self.last_ops.get(c)?)));
                    let marks = marks.chain(records.iter().map(|r| (r.client.clone(), r.op))).collect();
                    Some(Snapshot { board, marks })
                }
                Err(e) => {
                    tracing::warn!(room = %self.name, error = %e, "could not encode a snapshot; will retry");
                    None
                }
            }
        } else {
            None
        };
        let wrote_snapshot = snapshot.is_some();
        let refresh = self.disk.row_refreshed.elapsed() >= REFRESH_ROW_EVERY;
        let (epoch, shape_count) = (self.epoch, self.board.len());
        let append = Append { records, epoch, creator, snapshot, refresh, shape_count };
        let snapshot_bytes = append.snapshot.as_ref().map(|s| s.board.len());
        self.store.append(&self.name, append).await?;
        self.disk.row_stale = !(refresh || wrote_snapshot || !self.disk.stored);
        if !self.disk.row_stale {
            self.disk.row_refreshed = Instant::now();
        }
        self.stats.shapes.store(u32::try_from(shape_count).unwrap_or(u32::MAX), std::sync::atomic::Ordering::Relaxed);
        self.disk.snapshot_bytes = snapshot_bytes.unwrap_or(self.disk.snapshot_bytes);
        Ok(wrote_snapshot)
    }

    /// Brings the room's row up to date if it lags (when the room retires).
    pub(super) async fn refresh_row(&mut self) -> Result<(), StoreError> {
        if self.disk.row_stale {
            self.store.refresh_row(&self.name, self.seq, self.board.len()).await?;
            self.disk.row_stale = false;
        }
        Ok(())
    }

    /// Judges one change against the board (and its client's mark) and
    /// stages it: applied to the board, told to nobody until recorded.
    pub(super) fn stage(&mut self, member: ConnId, op: u64, change: Change) {
        if self.staged.is_empty() {
            self.staged_from = self.seq;
        }
        let Some((client, network)) = self.members.get(&member).map(|m| (m.client.clone(), m.network)) else {
            // Its connection left while the change was queued.
            return;
        };
        let last_op = self.last_ops.get(&client).copied().unwrap_or(0);
        let refusal = if op <= last_op {
            let why =
                format!("op {op} is not above {last_op}, the last op accepted from this client; not applied again");
            Some(ServerMsg::error(ErrorCode::StaleOp, why, Some(op)))
        } else if op - last_op > MAX_OP_JUMP {
            // One change must not be able to lock its client id out for good.
            let why =
                format!("op {op} is more than {MAX_OP_JUMP} above {last_op}, the last op accepted from this client");
            Some(ServerMsg::error(ErrorCode::OpTooFar, why, Some(op)))
        } else if let Err(e) = self.board.validate(&change) {
            Some(ServerMsg::error(ErrorCode::for_change_error(&e), e.to_string(), Some(op)))
        } else if self.seq == 0
            && let Err(e) = self.fairness.create_room(network)
        {
            // The room's first change stores it: that counts against its author's address.
            self.metrics.limited.get_or_create(&Why { why: "rooms_created" }).inc();
            Some(ServerMsg::error(ErrorCode::TooManyRooms, e.to_string(), Some(op)))
        } else {
            self.board
                .apply(&change)
                .err()
                .map(|e| ServerMsg::error(ErrorCode::for_change_error(&e), e.to_string(), Some(op)))
        };
        if let Some(msg) = refusal {
            if let ServerMsg::Error { code, .. } = &msg {
                self.metrics.changes_refused.get_or_create(&Code { code: code.as_str().into() }).inc();
            }
            self.staged.push(Staged::Refused { member, msg: Utf8Bytes::from(msg.to_json()) });
            return;
        }
        self.seq += 1;
        self.last_ops.insert(client.clone(), op);
        let record = Record { seq: self.seq, client, op, change, by: self.lounge.person_of(member.0) };
        self.staged.push(Staged::Accepted { member, network, record });
    }

    /// Counts a change another node recorded (several nodes) toward the next snapshot.
    pub(super) fn followed(&mut self, client: &ClientId, bytes: usize) {
        self.disk.stored = true;
        self.disk.since_snapshot += 1;
        self.disk.log_bytes_since_snapshot += bytes;
        self.disk.marks_moved.insert(client.clone());
    }

    fn after_recording(&mut self, wrote_snapshot: bool, staged: &[Staged], bytes: usize) {
        self.disk.stored = true;
        if wrote_snapshot {
            self.disk.since_snapshot = 0;
            self.disk.log_bytes_since_snapshot = 0;
            self.disk.marks_moved.clear();
            return;
        }
        for s in staged {
            if let Staged::Accepted { record, .. } = s {
                self.disk.since_snapshot += 1;
                self.disk.marks_moved.insert(record.client.clone());
            }
        }
        self.disk.log_bytes_since_snapshot += bytes;
    }
}

/// The author's and everyone else's copy of a recorded change, a pair per
/// message (one `applied`, or the `applied_part`s of a batch too large for
/// one); `by` is the author's person number in the room's presence.
pub(super) fn applied_messages(record: &Record) -> Vec<(Utf8Bytes, Utf8Bytes)> {
    let (seq, op) = (record.seq, Some(record.op));
    let (mut others, parts) = others_and_parts(record);
    match parts {
        None => {
            let own = ServerMsg::Applied { seq, change: record.change.clone(), op, by: None }.to_json();
            vec![(Utf8Bytes::from(own), others.remove(0))]
        }
        Some(parts) => parts.iter().map(|p| part(seq, p, op, None)).zip(others).collect(),
    }
}

/// Everyone else's copy of a recorded change (all a change another node
/// recorded needs), in the same messages as `applied_messages` makes.
pub(super) fn others_copy(record: &Record) -> Vec<Utf8Bytes> {
    others_and_parts(record).0
}

/// One `applied_part`'s place and changes: (part, parts, changes).
type Run = (u32, u32, Vec<Change>);

/// The author's copy is at most this much longer than the others' (`"op":`
/// and up to 16 digits, against a `by` that may be absent).
const OWN_COPY_EXTRA: usize = 24;

/// Everyone else's copies, and for a batch too large for one message, the
/// runs of its changes they were cut into (the author's copy is cut the same
/// way: an author told of a change in other pieces than everyone else would
/// be out of step with the room's stream). Past the size a client may send, a
/// member's socket would have to hold the whole of it at once.
fn others_and_parts(record: &Record) -> (Vec<Utf8Bytes>, Option<Vec<Run>>) {
    let (seq, by) = (record.seq, record.by);
    let whole = ServerMsg::Applied { seq, change: record.change.clone(), op: None, by }.to_json();
    let changes = match &record.change {
        Change::Batch { changes } if whole.len() + OWN_COPY_EXTRA > MAX_MESSAGE_BYTES => changes,
        _ => return (vec![Utf8Bytes::from(whole)], None),
    };
    let runs = in_parts(changes);
    let parts = runs.len() as u32;
    let runs: Vec<Run> = runs.into_iter().zip(0..).map(|(run, part)| (part, parts, run.to_vec())).collect();
    (runs.iter().map(|p| part(seq, p, None, by)).collect(), Some(runs))
}

fn part(seq: u64, (part, parts, changes): &Run, op: Option<u64>, by: Option<u32>) -> Utf8Bytes {
    let msg = ServerMsg::AppliedPart { seq, part: *part, parts: *parts, changes: changes.clone(), op, by };
    Utf8Bytes::from(msg.to_json())
}
