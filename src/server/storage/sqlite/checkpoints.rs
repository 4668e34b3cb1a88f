//! Checkpoints off the writer's path. In WAL mode SQLite copies the log back
//! into the database file (a checkpoint) by itself once the log passes 1,000
//! pages, inside the commit that crosses the mark: that commit then takes
//! milliseconds (the copy and the database file's fsync) and every room's
//! changes queued behind it wait. The writer's connection turns that off, and
//! this thread checkpoints instead, on a connection of its own, in `PASSIVE`
//! mode, which never waits for the writer nor makes it wait: the writer keeps
//! appending to the log meanwhile. But SQLite starts the log over only when
//! a write begins with all of it copied, which a busy writer never lets a
//! concurrent checkpoint reach; so the writer itself checkpoints too, at most
//! once every `FINISH_EVERY`, copying the few pages this thread has not, and
//! its next commit starts the log over. Durability is the commit's fsync of
//! the log, as before.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::convert::sql;
use super::rooms;
use crate::server::storage::StoreError;

/// The least time between two checkpoints: each costs an fsync of the
/// database file, so under load one copies many commits' pages at once.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

/// How often the writer finishes what this thread copied, so that the log
/// starts over (and stays about this long's worth of commits).
const FINISH_EVERY: Duration = Duration::from_millis(250);

/// The writer's side: says when there is something to checkpoint.
pub(super) struct Checkpoints {
    written: SyncSender<()>,
    /// When the writer last finished a checkpoint itself.
    finished: Instant,
}

impl Checkpoints {
    /// Opens the checkpointing connection on `path` and starts its thread.
    pub(super) fn start(path: &Path) -> Result<Checkpoints, StoreError> {
        let conn = rooms::open(path)?;
        let (written, commits) = sync_channel(1);
        std::thread::Builder::new()
            .name("sqlite-checkpoints".into())
            .spawn(move || run(&conn, &commits))
            .map_err(StoreError::WriterStart)?;
        Ok(Checkpoints { written, finished: Instant::now() })
    }

    /// A commit added to the log (never blocks: one pending word is enough).
    /// Now and then the writer (`writer`, between commits) finishes the
    /// checkpoint, so that its next commit starts the log over.
    pub(super) fn committed(&mut self, writer: &Connection) {
        match self.written.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) => {}
            Err(TrySendError::Disconnected(())) => tracing::error!("the checkpointing thread is gone"),
        }
        if self.finished.elapsed() >= FINISH_EVERY {
            self.finished = Instant::now();
            if let Err(e) = checkpoint(writer) {
                tracing::warn!(error = %e, "a checkpoint failed");
            }
        }
    }
}

/// A `PASSIVE` checkpoint on `conn`: copies what it can of the log without
/// waiting for anyone. Answers the log's frames and how many are copied.
fn checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| Ok((row.get(1)?, row.get(2)?)))
}

/// Turns off SQLite's own checkpoints on the writer's connection.
pub(super) fn leave_to_the_thread(writer: &Connection) -> Result<(), StoreError> {
    writer.pragma_update(None, "wal_autocheckpoint", 0).map_err(sql("turning off automatic checkpoints"))
}

/// Checkpoints after commits, at most every `CHECKPOINT_EVERY`, until the writer is gone.
fn run(conn: &Connection, commits: &Receiver<()>) {
    while commits.recv().is_ok() {
        match checkpoint(conn) {
            Ok((log, copied)) => tracing::trace!(log, copied, "checkpointed"),
            // A failed checkpoint loses nothing (the log keeps every commit); the next one tries again.
            Err(e) => tracing::warn!(error = %e, "a checkpoint failed"),
        }
        std::thread::sleep(CHECKPOINT_EVERY);
    }
}
