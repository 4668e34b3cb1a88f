//! The embedded engine: one SQLite file, for one node. `rooms.rs` holds the
//! SQL of rooms and their logs, `writer.rs` the one thread that writes (group
//! commit), `checkpoints.rs` the thread that copies the write-ahead log back
//! into the database off the writer's path, `history.rs` reading history back, `access.rs` private rooms and
//! view-only tokens, `schema.rs` the schema's versions.
//!
//! Layout: each room that has recorded a change has a row in `rooms` (its latest
//! snapshot and counters), its accepted changes in `changes`, keyed by (room,
//! seq) and naming the client and `op` of each, and in `client_ops` the last
//! `op` it accepted from each client as of its latest snapshot: with the
//! changes after it, that is a client's mark. Every snapshot is also kept, in
//! `keyframes`, for history.
//!
//! What a change costs on disk: recording one writes its row in `changes` and
//! nothing else, so a move is about one page. The room's row (its `seq`,
//! shape count and when it last changed, for the lobby) is brought up to date
//! at most once a minute and with each snapshot, and the client marks with
//! each snapshot. The writer keeps each room's head and marks in memory for
//! the compare-and-set of `append` (`writer::Heads`), so the check costs no read.
//!
//! Durability: WAL with `synchronous = FULL`, so a commit survives a killed
//! process and a power cut. Copying the WAL back into the database
//! (checkpoints) happens beside the writer, not inside a commit.

mod access;
mod checkpoints;
mod convert;
mod history;
mod rooms;
mod schema;
#[cfg(test)]
mod tests;
mod writer;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc as std_mpsc};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::listing::pick_listed;
use super::{
    Access, Append, Head, LoadedRoom, LobbyRoom, LogEntry, Logged, RoomStore, StoreError, Version, now_ms, pseudonym,
};
use crate::server::metrics::Metrics;
use convert::sql;
use sketchboard_core::model::RoomName;
use writer::{Job, Work};

/// A handle on one SQLite database; cheap to clone.
#[derive(Clone)]
pub(crate) struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: std_mpsc::Sender<Job>,
    reader: Mutex<Connection>,
    /// The key of `pseudonym`, kept in the database.
    key: [u8; 16],
}

impl SqliteStore {
    /// Opens (creating if missing) the database named by a `sqlite://PATH` URL.
    pub(crate) fn open(url: &str) -> Result<SqliteStore, StoreError> {
        Self::open_counted(url, Metrics::new())
    }

    /// `open`, counting commits in `metrics`.
    pub(crate) fn open_counted(url: &str, metrics: Arc<Metrics>) -> Result<SqliteStore, StoreError> {
        let path = url
            .strip_prefix("sqlite://")
            .filter(|p| !p.is_empty())
            .ok_or_else(|| StoreError::BadUrl(url.to_owned()))?;
        let path = PathBuf::from(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir { path: dir.to_owned(), source })?;
        }
        let mut writer_conn = rooms::open(&path)?;
        schema::migrate(&mut writer_conn)?;
        let key = schema::address_key(&writer_conn)?;
        let reader = rooms::open(&path)?;
        checkpoints::leave_to_the_thread(&writer_conn)?;
        let checkpoints = checkpoints::Checkpoints::start(&path)?;
        let (tx, rx) = std_mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer::run(writer_conn, rx, checkpoints, &metrics))
            .map_err(StoreError::WriterStart)?;
        Ok(SqliteStore { inner: Arc::new(Inner { writer: tx, reader: Mutex::new(reader), key }) })
    }

    /// Runs `f` with the reading connection, on a blocking thread.
    pub(super) async fn read<T: Send + 'static>(
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

    /// Runs `f` with the room's name, on the reading connection.
    pub(super) async fn read_room<T: Send + 'static>(
        &self,
        room: &RoomName,
        f: impl FnOnce(&Connection, &RoomName) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let room = room.clone();
        self.read(move |conn| f(conn, &room)).await
    }

    async fn write(&self, work: Work) -> Result<usize, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.inner.writer.send(Job { work, reply }).map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

#[async_trait::async_trait]
impl RoomStore for SqliteStore {
    async fn load_room(&self, room: &RoomName) -> Result<LoadedRoom, StoreError> {
        self.read_room(room, rooms::load_room).await
    }

    async fn append(&self, room: &RoomName, mut append: Append) -> Result<(), StoreError> {
        if let Some(creator) = append.creator.take() {
            append.creator = Some(pseudonym(&self.inner.key, &creator));
        }
        self.write(Work::Append { room: room.clone(), append }).await.map(|_| ())
    }

    async fn read_log(&self, room: &RoomName, after: u64, limit: usize) -> Result<Vec<LogEntry>, StoreError> {
        self.read_room(room, move |conn, room| rooms::read_log(conn, room, after, limit)).await
    }

    async fn refresh_row(&self, room: &RoomName, seq: u64, shape_count: usize) -> Result<(), StoreError> {
        self.write(Work::Refresh { room: room.clone(), seq, shape_count }).await.map(|_| ())
    }

    async fn opened(&self, room: &RoomName, at_ms: i64) -> Result<(), StoreError> {
        self.write(Work::Opened { room: room.clone(), at_ms }).await.map(|_| ())
    }

    async fn expire(&self, cutoff_ms: i64, keep: Vec<RoomName>) -> Result<usize, StoreError> {
        let rooms = self.read(move |conn| rooms::unopened_since(conn, cutoff_ms)).await?;
        let rooms: Vec<RoomName> = rooms.into_iter().filter(|r| !keep.contains(r)).collect();
        if rooms.is_empty() {
            return Ok(0);
        }
        self.write(Work::Expire { rooms, cutoff_ms }).await
    }

    async fn list_rooms(&self, within_ms: i64, per_creator: usize, limit: usize) -> Result<Vec<LobbyRoom>, StoreError> {
        let since = now_ms() - within_ms;
        let rows = self.read(move |conn| rooms::listed_since(conn, since, limit * 10)).await?;
        Ok(pick_listed(rows, per_creator, limit))
    }

    async fn access(&self, room: &RoomName) -> Result<Option<Access>, StoreError> {
        self.read_room(room, access::get).await
    }

    async fn room_for_token(&self, token: &str) -> Result<Option<RoomName>, StoreError> {
        let token = token.to_owned();
        self.read(move |conn| access::room_for_token(conn, &token)).await
    }

    async fn set_access(&self, room: &RoomName, access: Access) -> Result<(), StoreError> {
        self.write(Work::SetAccess { room: room.clone(), access }).await.map(|_| ())
    }

    async fn head(&self, room: &RoomName) -> Result<Head, StoreError> {
        self.read_room(room, history::head).await
    }

    async fn changes(&self, room: &RoomName, after: u64, limit: usize) -> Result<Vec<Logged>, StoreError> {
        self.read_room(room, move |conn, room| history::changes(conn, room, after, limit)).await
    }

    async fn version(&self, room: &RoomName, seq: u64) -> Result<Option<Version>, StoreError> {
        self.read_room(room, move |conn, room| history::version(conn, room, seq)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(sql("pinging"))).await
    }
}
