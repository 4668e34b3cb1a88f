//! The one thread that writes. It takes every job queued since its last
//! commit and commits them together (group commit): one fsync serves many
//! changes, from many rooms. Each job runs in its own savepoint, so a failing
//! job is rolled back alone, and hears its outcome only once the commit is done.

use std::sync::{Arc, mpsc as std_mpsc};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::access::{self, Access};
use super::{Append, StoreError, sql, sqlite};
use crate::model::RoomName;
use crate::server::metrics::Metrics;

/// The most jobs one transaction takes.
const MAX_JOBS_PER_COMMIT: usize = 512;

/// What the writer can be asked to do.
pub(super) enum Work {
    /// Record a room's accepted changes.
    Append { room: RoomName, append: Append },
    /// Bring a room's row up to date.
    Refresh { room: RoomName, seq: u64, shape_count: usize },
    /// Note that a room was opened (for expiry).
    Opened { room: RoomName },
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

/// Runs until every `Store` handle (and so every sender) is gone.
pub(super) fn run(mut conn: Connection, jobs: std_mpsc::Receiver<Job>, metrics: &Metrics) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_JOBS_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let results = commit_batch(&mut conn, &batch);
        metrics.commit_seconds.observe(started.elapsed().as_secs_f64());
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
fn commit_batch(conn: &mut Connection, batch: &[Job]) -> Vec<Result<usize, StoreError>> {
    let all_fail = |e: StoreError| {
        let e = Arc::new(e);
        batch.iter().map(|_| Err(StoreError::BatchFailed(e.clone()))).collect()
    };
    let mut tx = match conn.transaction().map_err(sql("starting a transaction")) {
        Ok(tx) => tx,
        Err(e) => return all_fail(e),
    };
    let now = sqlite::now_ms();
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        if tx.is_autocommit() {
            results.push(Err(StoreError::RolledBack));
            continue;
        }
        let result = (|| {
            let sp = tx.savepoint().map_err(sql("opening a savepoint"))?;
            let affected = match &job.work {
                Work::Append { room, append } => sqlite::append(&sp, room, append, now).map(|()| 1)?,
                Work::Refresh { room, seq, shape_count } => sqlite::refresh(&sp, room, *seq, *shape_count, now)?,
                Work::Opened { room } => sqlite::opened(&sp, room, now)?,
                Work::Expire { rooms, cutoff_ms } => sqlite::expire(&sp, rooms, *cutoff_ms)?,
                Work::SetAccess { room, access } => access::set(&sp, room, access, now)?,
            };
            // Dropping a savepoint without committing it rolls it back.
            sp.commit().map_err(sql("releasing a savepoint"))?;
            Ok(affected)
        })();
        results.push(result);
    }
    if tx.is_autocommit() {
        // Everything was rolled back, including jobs that reported success.
        return batch.iter().map(|_| Err(StoreError::RolledBack)).collect();
    }
    match tx.commit().map_err(sql("committing")) {
        Ok(()) => results,
        Err(e) => all_fail(e),
    }
}
