//! Durable storage of rooms. SQLite is the embedded default; nothing outside
//! this module knows that, so another engine can sit behind the same API.
//! This file is the API; `writer.rs` is the one thread that writes (group
//! commit); `sqlite.rs` holds the SQL and `schema.rs` its versions.
//!
//! Layout: each room that has recorded a change has a row in `rooms` (its latest
//! snapshot and counters), its accepted changes in `changes`, keyed by (room,
//! seq) and naming the client and `op` of each, and in `client_ops` the last
//! `op` it accepted from each client as of its latest snapshot: with the
//! changes after it, that is what lets a reconnecting client re-send safely. A
//! room is loaded as its snapshot plus the changes after it.
//!
//! What a change costs on disk: recording one writes its row in `changes` and
//! nothing else, so a move is about one page. The room's row (its `seq`,
//! shape count and when it last changed, for the lobby) is brought up to date
//! at most once a minute and with each snapshot, and the client marks with
//! each snapshot. The log is kept whole, for history: every snapshot is also
//! kept, in `keyframes`, so any version is a keyframe plus at most one
//! snapshot's interval of changes (`history.rs`). A snapshot is written once the log
//! since the last one holds at least `SNAPSHOT_EVERY` changes (or
//! `SNAPSHOT_LOG_BYTES` of them: a few imports) and is at least as large as
//! that snapshot, so snapshots never cost more than the log.
//!
//! Durability: WAL with `synchronous = FULL`, so a commit survives a killed
//! process and a power cut.

mod access;
mod history;
mod listing;
mod migrate;
pub mod redis_follow;
pub mod redis_lobby;
pub mod redis_log;
mod redis_reads;
mod schema;
mod sqlite;
#[cfg(test)]
mod tests;
mod writer;

use rusqlite::Connection;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use tokio::sync::oneshot;

use crate::model::{Board, Change, ClientId, RoomName};
use crate::server::metrics::Metrics;
pub use access::Access;
pub use history::{Logged, Version};
use listing::pick_listed;
pub use migrate::Copied;
pub use redis_lobby::LiveRooms;
pub(crate) use sqlite::now_ms;
use writer::{Job, Work};

/// The fewest changes between two snapshots of a room, unless they are large.
pub const SNAPSHOT_EVERY: u64 = 256;
/// Fewer changes than `SNAPSHOT_EVERY` are worth a snapshot once they are this
/// large: what loading a room replays stays bounded when its changes are imports.
pub const SNAPSHOT_LOG_BYTES: usize = 8 * 1024 * 1024;
/// The latest changes a room keeps at hand (and loads) to catch up a
/// reconnecting client without sending it a whole snapshot.
pub const RECENT_CHANGES: usize = 512;
/// And at most this many by weight (a batch counts as its changes), so a few
/// board-sized batches do not make the recent log a gigabyte.
pub const RECENT_WEIGHT: usize = crate::model::MAX_BATCH;
/// The most bytes of changes one page of history holds (at least one change).
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// Adds `change` to a room's recent log, dropping the oldest while it holds
/// more than `RECENT_CHANGES` changes or `RECENT_WEIGHT` of weight (the newest
/// always stays).
pub fn remember(recent: &mut VecDeque<Change>, change: Change) {
    recent.push_back(change);
    let mut weight: usize = recent.iter().map(|c| c.parts().len()).sum();
    while recent.len() > 1 && (recent.len() > RECENT_CHANGES || weight > RECENT_WEIGHT) {
        weight -= recent.pop_front().map_or(0, |old| old.parts().len());
    }
}
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
    /// Several nodes: another node appended first (or had already accepted
    /// an op). Nothing was recorded; the log's head is `head`.
    #[error("the room's log moved on to {head} meanwhile")]
    HeadMoved { head: u64 },
}

/// `Store::append` on a Redis log: one compare-and-set on the head the
/// records follow, then the snapshot, if one is due.
async fn redis_append(log: &redis_log::RedisLog, room: &RoomName, append: Append) -> Result<(), StoreError> {
    let (Some(first), Some(last)) = (append.records.first(), append.records.last()) else { return Ok(()) };
    let expected = first.seq - 1;
    match log.append(room, expected, append.epoch, sqlite::now_ms(), &append.records).await? {
        redis_log::Appended::Recorded { .. } => {}
        redis_log::Appended::Conflict { head } => return Err(StoreError::HeadMoved { head }),
        // Another node accepted that op: this node's marks lag the log.
        redis_log::Appended::Stale { .. } => return Err(StoreError::HeadMoved { head: expected }),
    }
    if let Some(snapshot) = &append.snapshot {
        log.snapshot(room, last.seq, &snapshot.board).await?;
    }
    // When SQLite would refresh the room's row: its first change, snapshots, once a minute.
    if append.refresh || append.snapshot.is_some() || append.creator.is_some() {
        let creator = append.creator.as_deref().map(|c| pseudonym(log.address_key(), c));
        log.list(room, sqlite::now_ms(), append.shape_count, creator.as_deref()).await?;
    }
    Ok(())
}

/// An error from the database engine, opaque so that nothing outside this
/// module depends on which engine it is.
/// A stable, keyed hash of `what`: the same for the same input and key
/// (the database's, or the Redis log's), and meaningless without the key.
fn pseudonym(key: &[u8; 16], what: &str) -> String {
    use std::hash::Hasher;
    let mut hasher = siphasher::sip::SipHasher13::new_with_key(key);
    hasher.write(what.as_bytes());
    format!("{:016x}", hasher.finish())
}

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
    /// Its author's person number in the room, where known: the others'
    /// copies say it. SQLite does not keep it; a Redis log does, for the
    /// other nodes' members.
    pub by: Option<u32>,
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
    /// The latest snapshot's size, and the size of the log since it, in bytes.
    pub snapshot_bytes: usize,
    pub log_bytes_since_snapshot: usize,
}

/// A line of the lobby.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomSummary {
    pub name: RoomName,
    pub shapes: u64,
}

/// What one commit of a room records.
#[derive(Debug, Clone, Default)]
pub struct Append {
    /// The accepted changes, in order.
    pub records: Vec<Record>,
    /// Recorded with the room's first change (and kept from then on).
    pub epoch: u64,
    /// With the room's first change: who made it, as the lobby groups rooms
    /// (an address, stored only as a keyed hash).
    pub creator: Option<String>,
    /// A snapshot of the board as of the last record, when one is due.
    pub snapshot: Option<Snapshot>,
    /// Whether to bring the room's row up to date (seq, shape count, when it changed).
    pub refresh: bool,
    pub shape_count: usize,
}

/// A snapshot, and the client marks it vouches for.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The board, JSON.
    pub board: String,
    /// The last op accepted from each client whose mark moved since the last snapshot.
    pub marks: Vec<(ClientId, u64)>,
}

/// A handle on the database; cheap to clone. With a Redis log (several
/// nodes), the rooms' logs, snapshots and marks are there instead.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
    log: Option<redis_log::RedisLog>,
}

struct Inner {
    writer: std_mpsc::Sender<Job>,
    reader: Mutex<Connection>,
    /// The key of `pseudonym`, kept in the database.
    key: [u8; 16],
}

impl Store {
    /// Opens (creating if missing) the database named by a `sqlite://PATH` URL.
    pub fn open(url: &str) -> Result<Store, StoreError> {
        Self::open_counted(url, Metrics::new())
    }

    /// `open`, counting commits in `metrics`.
    pub(crate) fn open_counted(url: &str, metrics: Arc<Metrics>) -> Result<Store, StoreError> {
        let path = url
            .strip_prefix("sqlite://")
            .filter(|p| !p.is_empty())
            .ok_or_else(|| StoreError::BadUrl(url.to_owned()))?;
        let path = PathBuf::from(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir { path: dir.to_owned(), source })?;
        }
        let mut writer_conn = sqlite::open(&path)?;
        schema::migrate(&mut writer_conn)?;
        let key = schema::address_key(&writer_conn)?;
        let reader = sqlite::open(&path)?;
        let (tx, rx) = std_mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer::run(writer_conn, rx, &metrics))
            .map_err(StoreError::WriterStart)?;
        Ok(Store { inner: Arc::new(Inner { writer: tx, reader: Mutex::new(reader), key }), log: None })
    }

    /// The same store, with the rooms' logs in Redis.
    pub fn with_log(self, log: redis_log::RedisLog) -> Store {
        Store { log: Some(log), ..self }
    }

    /// The Redis log, when the rooms' logs are there.
    pub fn log(&self) -> Option<&redis_log::RedisLog> {
        self.log.as_ref()
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
        if let Some(log) = &self.log {
            return log.load_room(room).await;
        }
        let name = room.clone();
        self.read(move |conn| sqlite::load_room(conn, &name)).await
    }

    /// Records accepted changes, in order, durably. Returns once committed.
    /// `append.epoch` names this incarnation of the room: it is stored with
    /// the room's first change and ignored after that. A room deleted and
    /// made anew gets another, so a client's `since` from the old one is not
    /// mistaken for a place in the new one's history.
    pub async fn append(&self, room: &RoomName, mut append: Append) -> Result<(), StoreError> {
        if let Some(log) = &self.log {
            return redis_append(log, room, append).await;
        }
        if let Some(creator) = append.creator.take() {
            append.creator = Some(pseudonym(&self.inner.key, &creator));
        }
        self.write(Work::Append { room: room.clone(), append }).await.map(|_| ())
    }

    /// Brings a room's row (seq, shape count, when it changed) up to date.
    pub async fn refresh_row(&self, room: &RoomName, seq: u64, shape_count: usize) -> Result<(), StoreError> {
        if let Some(log) = &self.log {
            return log.list(room, sqlite::now_ms(), shape_count, None).await;
        }
        self.write(Work::Refresh { room: room.clone(), seq, shape_count }).await.map(|_| ())
    }

    /// Notes that a stored room was opened, so expiry spares it.
    pub async fn opened(&self, room: &RoomName) -> Result<(), StoreError> {
        self.write(Work::Opened { room: room.clone() }).await.map(|_| ())
    }

    /// Deletes stored rooms nobody opened for `unopened_ms`, but for those in
    /// `keep` (the rooms loaded now). Returns how many went.
    pub async fn expire(&self, unopened_ms: i64, keep: Vec<RoomName>) -> Result<usize, StoreError> {
        let cutoff_ms = sqlite::now_ms() - unopened_ms;
        let rooms = self.read(move |conn| sqlite::unopened_since(conn, cutoff_ms)).await?;
        let rooms: Vec<RoomName> = rooms.into_iter().filter(|r| !keep.contains(r)).collect();
        if rooms.is_empty() {
            return Ok(0);
        }
        self.write(Work::Expire { rooms, cutoff_ms }).await
    }

    async fn write(&self, work: Work) -> Result<usize, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.inner.writer.send(Job { work, reply }).map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Rooms changed within `within_ms`, most recently changed first, at
    /// most `per_creator` of those made from one address, `limit` in all.
    pub async fn list_rooms(
        &self,
        within_ms: i64,
        per_creator: usize,
        limit: usize,
    ) -> Result<Vec<RoomSummary>, StoreError> {
        let since = sqlite::now_ms() - within_ms;
        if let Some(log) = &self.log {
            return log.list_rooms(since, per_creator, limit).await;
        }
        self.read(move |conn| sqlite::list_rooms(conn, since, per_creator, limit)).await
    }

    /// A room's access (private, view-only token), if any was ever set.
    pub async fn access(&self, room: &RoomName) -> Result<Option<Access>, StoreError> {
        if let Some(log) = &self.log {
            return log.access(room).await;
        }
        let room = room.clone();
        self.read(move |conn| access::get(conn, &room)).await
    }

    /// The room a view-only token opens, if it opens one.
    pub async fn room_for_token(&self, token: &str) -> Result<Option<RoomName>, StoreError> {
        if let Some(log) = &self.log {
            return log.room_for_token(token).await;
        }
        let token = token.to_owned();
        self.read(move |conn| access::room_for_token(conn, &token)).await
    }

    /// Sets a room's access (`private` only ever turns on).
    pub async fn set_access(&self, room: &RoomName, access: Access) -> Result<(), StoreError> {
        if let Some(log) = &self.log {
            if access.private {
                log.unlist(room).await?;
            }
            return log.set_access(room, &access).await;
        }
        self.write(Work::SetAccess { room: room.clone(), access }).await.map(|_| ())
    }

    /// The seq of the room's latest recorded change (0 when none).
    pub async fn head(&self, room: &RoomName) -> Result<u64, StoreError> {
        if let Some(log) = &self.log {
            return log.head(room).await;
        }
        let room = room.clone();
        self.read(move |conn| history::head(conn, &room)).await
    }

    /// Up to `limit` recorded changes after `after`, in order, with their times.
    pub async fn changes(&self, room: &RoomName, after: u64, limit: usize) -> Result<Vec<Logged>, StoreError> {
        if let Some(log) = &self.log {
            return log.changes(room, after, limit).await;
        }
        let room = room.clone();
        self.read(move |conn| history::changes(conn, &room, after, limit)).await
    }

    /// The board as it was after change `seq` (0: empty); `None` if there is
    /// no such version or it is no longer kept.
    pub async fn version(&self, room: &RoomName, seq: u64) -> Result<Option<Version>, StoreError> {
        if let Some(log) = &self.log {
            return log.version(room, seq).await;
        }
        let room = room.clone();
        self.read(move |conn| history::version(conn, &room, seq)).await
    }

    /// Whether the database (and the Redis log, with several nodes) answers: for the health check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(sql("pinging"))).await?;
        match &self.log {
            Some(log) => log.ping().await,
            None => Ok(()),
        }
    }
}
