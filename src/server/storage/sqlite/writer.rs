//! The one thread that writes. It takes every job queued since its last
//! commit and commits them together (group commit): one fsync serves many
//! changes, from many rooms. Each job runs in its own savepoint, so a failing
//! job is rolled back alone, and hears its outcome only once the commit is done.
//!
//! It also keeps, for the rooms it has appended to, each one's head and
//! client marks as committed (`Heads`): an append's compare-and-set is then
//! checked without a read. Only this thread writes, so nothing else can move them.

use std::collections::HashMap;
use std::sync::{Arc, mpsc as std_mpsc};

use rusqlite::{Connection, Savepoint};
use tokio::sync::oneshot;

use super::checkpoints::Checkpoints;
use super::convert::sql;
use super::{access, rooms};
use crate::server::metrics::Metrics;
use crate::server::storage::{Access, Append, StoreError, now_ms};
use sketchboard_core::model::{ClientId, RoomName};

/// The most jobs one transaction takes.
const MAX_JOBS_PER_COMMIT: usize = 512;

/// What the writer can be asked to do.
pub(super) enum Work {
    /// Record a room's accepted changes.
    Append { room: RoomName, append: Append },
    /// Bring a room's row up to date.
    Refresh { room: RoomName, seq: u64, shape_count: usize },
    /// Note that a room was opened at `at_ms` (for expiry).
    Opened { room: RoomName, at_ms: i64 },
    /// Delete these rooms unless opened since `cutoff_ms`.
    Expire { rooms: Vec<RoomName>, cutoff_ms: i64 },
    /// Set a room's access (private, view-only token).
    SetAccess { room: RoomName, access: Access },
}

pub(super) struct Job {
    pub(super) work: Work,
    /// How many rooms the job affected, once committed.
    pub(super) reply: oneshot::Sender<Result<usize, StoreError>>,
}

/// Rooms whose head and marks are kept in memory at most; past it they are
/// all forgotten (and read again from the database when next appended to).
const HEADS_KEPT: usize = 10_000;

/// A room's head and its clients' marks, as committed.
#[derive(Debug, Clone, Default)]
struct Head {
    seq: u64,
    marks: HashMap<ClientId, u64>,
}

/// The heads and marks of the rooms this writer has appended to.
#[derive(Default)]
struct Heads {
    rooms: HashMap<RoomName, Head>,
}

impl Heads {
    /// The room's head, read from the database the first time.
    fn get(&mut self, tx: &Savepoint<'_>, room: &RoomName) -> Result<&mut Head, StoreError> {
        if !self.rooms.contains_key(room) {
            if self.rooms.len() >= HEADS_KEPT {
                self.rooms.clear();
            }
            let (seq, marks) = rooms::head_and_marks(tx, room)?;
            self.rooms.insert(room.clone(), Head { seq, marks });
        }
        self.rooms.get_mut(room).ok_or(StoreError::RolledBack)
    }

    /// Checks `append` against the room's head and marks: the records must
    /// follow the head, and each op must be above its client's mark.
    fn check(&mut self, tx: &Savepoint<'_>, room: &RoomName, append: &Append) -> Result<(), StoreError> {
        let Some(first) = append.records.first() else { return Ok(()) };
        let head = self.get(tx, room)?;
        // Stale ops first, at any head, as the Redis engine judges them.
        let mut seen: HashMap<&ClientId, u64> = HashMap::new();
        for (index, r) in append.records.iter().enumerate() {
            let mark = seen.get(&r.client).or(head.marks.get(&r.client)).copied().unwrap_or(0);
            if r.op <= mark {
                return Err(StoreError::StaleOp { index, mark });
            }
            seen.insert(&r.client, r.op);
        }
        let numbered = append.records.iter().zip(first.seq..).all(|(r, seq)| r.seq == seq);
        if first.seq != head.seq + 1 || !numbered {
            return Err(StoreError::HeadMoved { head: head.seq });
        }
        Ok(())
    }

    /// `append` was recorded (its savepoint released).
    fn appended(&mut self, room: &RoomName, append: &Append) {
        if append.snapshot.is_some() {
            // A snapshot forgets clients not seen for a month: read the marks again next time.
            self.rooms.remove(room);
            return;
        }
        let Some(head) = self.rooms.get_mut(room) else { return };
        for r in &append.records {
            head.seq = r.seq;
            head.marks.insert(r.client.clone(), r.op);
        }
    }
}

/// Runs until every `SqliteStore` handle (and so every sender) is gone.
pub(super) fn run(
    mut conn: Connection,
    jobs: std_mpsc::Receiver<Job>,
    mut checkpoints: Checkpoints,
    metrics: &Metrics,
) {
    let mut heads = Heads::default();
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_JOBS_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let results = commit_batch(&mut conn, &batch, &mut heads);
        metrics.commit_seconds.observe(started.elapsed().as_secs_f64());
        checkpoints.committed(&conn);
        let changes: usize = batch
            .iter()
            .map(|job| match &job.work {
                Work::Append { append, .. } => append.records.len(),
                _ => 0,
            })
            .sum();
        if changes > 0 {
            metrics.commit_changes.observe(changes as f64);
        }
        for (job, result) in batch.into_iter().zip(results) {
            if let Err(e) = &result {
                tracing::error!(error = %e, "a storage job failed; its changes were refused");
            }
            let _ = job.reply.send(result);
        }
    }
}

/// Runs every job in one transaction. Returns one result per job; if the
/// commit itself fails, every job fails. Some errors (a full disk, an I/O
/// error) make SQLite roll back the whole transaction by itself: then the
/// jobs not yet run fail too, rather than each silently committing on its own.
fn commit_batch(conn: &mut Connection, batch: &[Job], heads: &mut Heads) -> Vec<Result<usize, StoreError>> {
    let mut tx = match conn.transaction().map_err(sql("starting a transaction")) {
        Ok(tx) => tx,
        Err(e) => return all_fail(heads, batch, e),
    };
    let now = now_ms();
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        if tx.is_autocommit() {
            results.push(Err(StoreError::RolledBack));
            continue;
        }
        let result = (|| {
            let sp = tx.savepoint().map_err(sql("opening a savepoint"))?;
            let affected = match &job.work {
                Work::Append { room, append } => {
                    heads.check(&sp, room, append)?;
                    rooms::append(&sp, room, append, now).map(|()| 1)?
                }
                Work::Refresh { room, seq, shape_count } => rooms::refresh(&sp, room, *seq, *shape_count, now)?,
                Work::Opened { room, at_ms } => rooms::opened(&sp, room, *at_ms)?,
                Work::Expire { rooms: gone, cutoff_ms } => rooms::expire(&sp, gone, *cutoff_ms)?,
                Work::SetAccess { room, access } => access::set(&sp, room, access, now)?,
            };
            // Dropping a savepoint without committing it rolls it back.
            sp.commit().map_err(sql("releasing a savepoint"))?;
            match &job.work {
                Work::Append { room, append } => heads.appended(room, append),
                Work::Expire { rooms: gone, .. } => gone.iter().for_each(|room| drop(heads.rooms.remove(room))),
                _ => {}
            }
            Ok(affected)
        })();
        results.push(result);
    }
    if tx.is_autocommit() {
        // Everything was rolled back, including jobs that reported success.
        forget_rooms(heads, batch);
        return batch.iter().map(|_| Err(StoreError::RolledBack)).collect();
    }
    match tx.commit().map_err(sql("committing")) {
        Ok(()) => results,
        Err(e) => all_fail(heads, batch, e),
    }
}

/// Every job fails with `e`: the transaction could not start or commit.
fn all_fail(heads: &mut Heads, batch: &[Job], e: StoreError) -> Vec<Result<usize, StoreError>> {
    forget_rooms(heads, batch);
    let e = Arc::new(e);
    batch.iter().map(|_| Err(StoreError::BatchFailed(e.clone()))).collect()
}

/// Forgets the heads of every room `batch` appended to: what its savepoints
/// recorded is not committed after all.
fn forget_rooms(heads: &mut Heads, batch: &[Job]) {
    for job in batch {
        if let Work::Append { room, .. } = &job.work {
            heads.rooms.remove(room);
        }
    }
}
