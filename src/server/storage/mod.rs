//! Durable storage of rooms. SQLite is the embedded default; nothing outside
//! this module knows that, so another engine can sit behind the same API.
//! This file is the API and the writer thread; `sqlite.rs` holds the SQL.
//!
//! Layout: each room that has recorded a change has a row in `rooms` (its latest
//! snapshot and counters), its accepted changes in `changes`, keyed by (room,
//! seq), and in `client_ops` the last `op` it accepted from each client, which
//! is what lets a reconnecting client re-send safely. A room is loaded as its
//! snapshot plus the changes after it. Snapshots are rewritten every
//! `SNAPSHOT_EVERY` changes so that replay stays short; the log is kept a while
//! longer behind the snapshot (for catching clients up from it later).
//!
//! Durability: WAL with `synchronous = FULL`, so a commit survives a killed
//! process and a power cut. All writes go through one writer thread that takes
//! every job queued since its last commit and commits them together (group
//! commit): one fsync serves many changes, from many rooms.

mod sqlite;
#[cfg(test)]
mod tests;

use rusqlite::Connection;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use tokio::sync::oneshot;

use crate::model::{Board, Change, ClientId, RoomName};

/// Changes between two snapshots of a room.
pub const SNAPSHOT_EVERY: u64 = 256;
/// Changes kept in the log behind the latest snapshot: enough that a room
/// always loads its last `RECENT_CHANGES`.
const LOG_KEPT_BEHIND_SNAPSHOT: u64 = 1024;
/// The latest changes a room keeps at hand (and loads) to catch up a
/// reconnecting client without sending it a whole snapshot.
pub const RECENT_CHANGES: usize = 512;
/// The most jobs one transaction takes.
const MAX_JOBS_PER_COMMIT: usize = 512;
/// How long a client's last op is remembered after its last change. Only a
/// tab that comes back after this long with changes it sent but never saw
/// confirmed could have one applied twice.
const CLIENT_OPS_KEPT_MS: i64 = 30 * 24 * 3600 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DATABASE_URL must look like sqlite://PATH, got {0:?}")]
    BadUrl(String),
    #[error("could not create the database folder {path}: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("the database failed while {doing}: {source}")]
    Engine { doing: &'static str, source: EngineError },
    #[error("the database is at schema version {found}, newer than this build knows ({known}): upgrade Sketchboard")]
    TooNew { found: i64, known: i64 },
    #[error("stored data for room {room} is unreadable: {detail}")]
    Corrupt { room: String, detail: String },
    #[error("could not start the storage writer thread: {0}")]
    WriterStart(std::io::Error),
    #[error("the storage writer has stopped")]
    WriterGone,
    #[error("a storage read stopped before it finished: {0}")]
    ReadAborted(String),
    #[error("an earlier failure in the same transaction rolled these changes back")]
    RolledBack,
    #[error("the transaction holding these changes failed: {0}")]
    BatchFailed(Arc<StoreError>),
}

/// An error from the database engine, opaque so that nothing outside this
/// module depends on which engine it is.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct EngineError(Box<dyn std::error::Error + Send + Sync>);

fn sql(doing: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Engine { doing, source: EngineError(Box::new(source)) }
}

/// One accepted change, as recorded.
#[derive(Debug, Clone)]
pub struct Record {
    pub seq: u64,
    pub client: ClientId,
    pub op: u64,
    pub change: Change,
}

/// A room as loaded from storage.
#[derive(Debug, Clone, Default)]
pub struct LoadedRoom {
    pub board: Board,
    pub seq: u64,
    /// Changes recorded since the latest snapshot.
    pub since_snapshot: u64,
    /// The last changes (at most `RECENT_CHANGES`), ending with change `seq`.
    pub recent: VecDeque<Change>,
    /// The last `op` accepted from each client.
    pub last_ops: HashMap<ClientId, u64>,
    /// Which incarnation of the room this is (see `Store::append`); `None`
    /// while it has never recorded anything.
    pub epoch: Option<u64>,
}

/// A line of the lobby.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomSummary {
    pub name: RoomName,
    pub shapes: u64,
}

/// One room's changes for the writer thread to record.
struct Job {
    room: RoomName,
    records: Vec<Record>,
    shape_count: usize,
    /// The board as of the last record, JSON, when a snapshot is due.
    snapshot: Option<String>,
    /// Recorded with the room's first change (and kept from then on).
    epoch: u64,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    writer: std_mpsc::Sender<Job>,
    reader: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if missing) the database named by a `sqlite://PATH` URL.
    pub fn open(url: &str) -> Result<Store, StoreError> {
        let path = url
            .strip_prefix("sqlite://")
            .filter(|p| !p.is_empty())
            .ok_or_else(|| StoreError::BadUrl(url.to_owned()))?;
        let path = PathBuf::from(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir { path: dir.to_owned(), source })?;
        }
        let mut writer_conn = sqlite::open(&path)?;
        sqlite::migrate(&mut writer_conn)?;
        let reader = sqlite::open(&path)?;
        let (tx, rx) = std_mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(writer_conn, rx))
            .map_err(StoreError::WriterStart)?;
        Ok(Store { inner: Arc::new(Inner { writer: tx, reader: Mutex::new(reader) }) })
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave the connection half-used
            // in a way that matters (every read is one statement), so carry on.
            let conn = inner.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&conn)
        })
        .await
        .map_err(|e| StoreError::ReadAborted(e.to_string()))?
    }

    /// Loads a room; one that never recorded a change loads empty. (A room gets
    /// its row with its first change, so merely visiting one stores nothing.)
    pub async fn load_room(&self, room: &RoomName) -> Result<LoadedRoom, StoreError> {
        let name = room.clone();
        self.read(move |conn| sqlite::load_room(conn, &name)).await
    }

    /// Records accepted changes, in order, durably. Returns once committed.
    /// `epoch` names this incarnation of the room: it is stored with the
    /// room's first change and ignored after that. A room deleted and made
    /// anew gets another, so a client's `since` from the old one is not
    /// mistaken for a place in the new one's history.
    pub async fn append(
        &self,
        room: &RoomName,
        epoch: u64,
        records: Vec<Record>,
        shape_count: usize,
        snapshot: Option<String>,
    ) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job { room: room.clone(), records, shape_count, snapshot, epoch, reply };
        self.inner.writer.send(job).map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// The most recently changed rooms that hold any history, newest first.
    pub async fn list_rooms(&self, limit: usize) -> Result<Vec<RoomSummary>, StoreError> {
        self.read(move |conn| sqlite::list_rooms(conn, limit)).await
    }

    /// Whether the database answers: for the health check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(sql("pinging"))).await
    }
}

fn writer_loop(mut conn: Connection, jobs: std_mpsc::Receiver<Job>) {
    // Ends when every Store handle is gone.
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_JOBS_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let results = commit_batch(&mut conn, &batch);
        for (job, result) in batch.into_iter().zip(results) {
            if let Err(e) = &result {
                tracing::error!(error = %e, "a storage job failed; its changes were refused");
            }
            let _ = job.reply.send(result);
        }
    }
}

/// Runs every job in one transaction, each inside its own savepoint so that a
/// failing job is rolled back alone. Returns one result per job; if the commit
/// itself fails, every job fails. Some errors (a full disk, an I/O error) make
/// SQLite roll back the whole transaction by itself: then the jobs not yet run
/// fail too, rather than each silently committing on its own.
fn commit_batch(conn: &mut Connection, batch: &[Job]) -> Vec<Result<(), StoreError>> {
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
            sqlite::append(&sp, job, now)?;
            // Dropping a savepoint without committing it rolls it back.
            sp.commit().map_err(sql("releasing a savepoint"))
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
