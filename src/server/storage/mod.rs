//! Durable storage of rooms, behind one interface: `RoomStore`. Two engines
//! implement all of it: `sqlite` (the embedded default, one node) and `redis`
//! (the rooms' logs in a Redis several nodes share). The room actor, the lobby,
//! the registry and the HTTP handlers hold a `Store` and never ask which
//! engine is behind it; a method one engine lacked would not compile. Both are
//! held to the same behaviour by one contract suite (`tests/it/store_contract.rs`).
//!
//! What a room is, in any engine: a log of accepted changes, each numbered by
//! the room (its `seq`), naming the client and `op` that made it; the last op
//! accepted from each client (its mark: what lets a reconnecting client re-send
//! safely); snapshots of the board, every one kept as a keyframe, so that any
//! version is a keyframe plus at most one snapshot's interval of changes; who
//! may open it (private, view-only token); when it was last opened (expiry);
//! and a line in the lobby. A room is loaded as its latest snapshot plus the
//! changes after it. A snapshot is written once the log since the last one
//! holds at least `SNAPSHOT_EVERY` changes (or `SNAPSHOT_LOG_BYTES` of them: a
//! few imports) and is at least as large as that snapshot, so snapshots never
//! cost more than the log.
//!
//! Appending is a compare-and-set: records follow the head the appender holds,
//! and no record's op may be at or below its client's mark. Several nodes may
//! append to one room's log that way and agree on one order; with one node it
//! is the check that nothing upstream went wrong.
//!
//! What crosses between nodes and is never stored (wake-ups, presence, the
//! lobby's live counts) is not here: see `server::peers`.

pub(crate) mod archive;
mod lease;
mod listing;
mod recent;
pub(crate) mod redis;
pub(crate) mod sqlite;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use lease::{Claim, Node, Owner};
pub(crate) use recent::Recent;
pub use sketchboard_core::lobby::LobbyRoom;
use sketchboard_core::model::{Board, Change, ClientId, RoomName};

/// The fewest changes between two snapshots of a room, unless they are large.
pub const SNAPSHOT_EVERY: u64 = 256;
/// Fewer changes than `SNAPSHOT_EVERY` are worth a snapshot once they are this
/// large: what loading a room replays stays bounded when its changes are imports.
pub(super) const SNAPSHOT_LOG_BYTES: usize = 8 * 1024 * 1024;
/// The most bytes of changes one page of history holds (at least one change).
pub(super) const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// How long a client's last op is remembered after its last change. Only a
/// tab that comes back after this long with changes it sent but never saw
/// confirmed could have one applied twice.
const CLIENT_OPS_KEPT_MS: i64 = 30 * 24 * 3600 * 1000;

/// The store every part of the server holds: one engine, behind `RoomStore`.
pub type Store = Arc<dyn RoomStore>;

/// Everything the server keeps of its rooms. Every method is one engine's
/// whole answer: none is optional, and both engines pass the same contract.
#[async_trait::async_trait]
pub trait RoomStore: Send + Sync + 'static {
    /// Loads a room; one that never recorded a change loads empty (epoch
    /// `None`). A room is stored with its first change, so visiting stores nothing.
    async fn load_room(&self, room: &RoomName) -> Result<LoadedRoom, StoreError>;

    /// Records `append.records`, numbered on from `append.records[0].seq - 1`,
    /// in order, durably, if that is still the room's head and no record's op
    /// is at or below its client's mark; otherwise records nothing and says
    /// why (`HeadMoved`, `StaleOp`). Returns once it is on disk.
    /// `append.epoch` is kept with the room's first change and ignored after:
    /// a room deleted and made anew gets another, so a client's `since` from
    /// the old one is not mistaken for a place in the new one's history.
    async fn append(&self, room: &RoomName, append: Append) -> Result<(), StoreError>;

    /// Up to `limit` entries of the log after `after`, in order: what other
    /// nodes appended, for a room following its log.
    async fn read_log(&self, room: &RoomName, after: u64, limit: usize) -> Result<Vec<LogEntry>, StoreError>;

    /// Brings the room's lobby line (seq, shape count, when it changed) up to date.
    async fn refresh_row(&self, room: &RoomName, seq: u64, shape_count: usize) -> Result<(), StoreError>;

    /// Notes that a stored room was opened at `at_ms`, so expiry spares it
    /// (a room not stored yet is left alone: visits store nothing). A room
    /// is opened when it is stored, too.
    async fn opened(&self, room: &RoomName, at_ms: i64) -> Result<(), StoreError>;

    /// Deletes stored rooms nobody opened since `cutoff_ms`, with everything
    /// they hold, but for those in `keep` (the rooms loaded now, which count
    /// as opened). Returns how many went; a sweep takes a bounded number.
    async fn expire(&self, cutoff_ms: i64, keep: Vec<RoomName>) -> Result<usize, StoreError>;

    /// Rooms changed within `within_ms`, most recently changed first, at most
    /// `per_creator` of those made from one address, `limit` in all; never a
    /// private one. (Their `members` are 0: who is in a room now is not stored.)
    async fn list_rooms(&self, within_ms: i64, per_creator: usize, limit: usize) -> Result<Vec<LobbyRoom>, StoreError>;

    /// A room's access (private, view-only token), if any was ever set.
    async fn access(&self, room: &RoomName) -> Result<Option<Access>, StoreError>;

    /// The room a view-only token opens, if it opens one.
    async fn room_for_token(&self, token: &str) -> Result<Option<RoomName>, StoreError>;

    /// Sets a room's access: `private` only ever turns on (and takes the room
    /// out of the lobby); a new token replaces the old one, which stops opening it.
    async fn set_access(&self, room: &RoomName, access: Access) -> Result<(), StoreError>;

    /// Where the room's record stands (its latest change and its epoch; 0
    /// and 0 when none), without reading its board.
    async fn head(&self, room: &RoomName) -> Result<Head, StoreError>;

    /// Up to `limit` recorded changes after `after`, in order, with their
    /// times; fewer past `MAX_PAGE_BYTES`.
    async fn changes(&self, room: &RoomName, after: u64, limit: usize) -> Result<Vec<Logged>, StoreError>;

    /// The board as it was after change `seq` (0: empty); `None` if there is
    /// no such version or it is no longer kept.
    async fn version(&self, room: &RoomName, seq: u64) -> Result<Option<Version>, StoreError>;

    /// Whether the engine answers: for the health check.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Gives the room a new epoch (its log lost changes: `room::follow`), so
    /// that tabs of the old one resync rather than resume. A log that cannot
    /// lose what it acknowledged (SQLite's: one writer, its own file) keeps
    /// its epoch.
    async fn new_epoch(&self, _room: &RoomName, _epoch: u64) -> Result<(), StoreError> {
        Ok(())
    }

    /// Claims the room for this node (`held`: `None`), or renews the lease it
    /// holds under epoch `held` (`lease.rs`). An engine one node alone writes
    /// (SQLite) answers that every room is this node's, for good.
    async fn claim(&self, _room: &RoomName, _held: Option<u64>) -> Result<Claim, StoreError> {
        Ok(Claim::Mine { epoch: 0, lasts: None })
    }

    /// Ends this node's lease on the room under `epoch`, if it still holds it,
    /// so that another node may claim the room at once.
    async fn release(&self, _room: &RoomName, _epoch: u64) -> Result<(), StoreError> {
        Ok(())
    }

    /// The room's owner, if it ever had one (never, with one node alone).
    async fn owner(&self, _room: &RoomName) -> Result<Option<Owner>, StoreError> {
        Ok(None)
    }

    /// The room goes idle on this node, which owns it under `lease`: an
    /// engine with an archive archives what is due, in the background.
    async fn settle(&self, _room: &RoomName, _lease: Option<u64>) {}
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DATABASE_URL must look like sqlite://PATH, got {0:?}")]
    BadUrl(String),
    #[error("could not create the database folder {path}: {source}")]
    CreateDir { path: std::path::PathBuf, source: std::io::Error },
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
    /// Another appender got there first: nothing was recorded; the log's head is `head`.
    #[error("the room's log moved on to {head} meanwhile")]
    HeadMoved { head: u64 },
    /// Record `index` of an append has an op at or below its client's mark
    /// (another node accepted it already): nothing was recorded.
    #[error("change {index} of the append repeats an op its client already had accepted (mark {mark})")]
    StaleOp { index: usize, mark: u64 },
    /// The log no longer holds the change the appender had at its head (a
    /// failover to a replica that lacked it): nothing was recorded; the log's
    /// head is `head`.
    #[error("the room's log lost changes (its head is {head})")]
    Rewound { head: u64 },
    /// The appender is no longer the room's owner (`lease.rs`): another node
    /// claimed it. Nothing was recorded.
    #[error("another node ({owner}) took the room over: this one may no longer write to it")]
    Fenced { owner: String },
}

impl StoreError {
    /// Whether another appender got there first (another node): nothing was
    /// recorded, and the appender should read what it missed and judge again.
    pub fn lost_race(&self) -> bool {
        matches!(self, StoreError::HeadMoved { .. } | StoreError::StaleOp { .. })
    }
}

/// An error from a database engine, opaque so that nothing outside this
/// module depends on which engine it is.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct EngineError(Box<dyn std::error::Error + Send + Sync>);

impl EngineError {
    fn new(source: impl std::error::Error + Send + Sync + 'static) -> EngineError {
        EngineError(Box::new(source))
    }
}

/// One accepted change, as recorded.
#[derive(Debug, Clone)]
pub struct Record {
    pub seq: u64,
    pub client: ClientId,
    pub op: u64,
    pub change: Change,
    /// Its author's person number in the room, where known: the others'
    /// copies say it. SQLite does not keep it (one node numbers its own
    /// people); Redis does, for the other nodes' members.
    pub by: Option<u32>,
}

/// One entry of a room's log, as read back.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub seq: u64,
    pub client: ClientId,
    pub op: u64,
    /// When it was recorded (ms since 1970; 0 when unknown).
    pub at_ms: i64,
    pub change: Change,
    /// The change's size as stored (JSON bytes).
    pub bytes: usize,
    /// Its author's person number in the room, where it was kept.
    pub by: Option<u32>,
}

impl LogEntry {
    pub fn into_record(self) -> Record {
        Record { seq: self.seq, client: self.client, op: self.op, change: self.change, by: self.by }
    }
}

/// Where a room's record stands: which of its states a board shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Head {
    /// Its latest recorded change (0 when none).
    pub seq: u64,
    /// Its incarnation (see `LoadedRoom::epoch`; 0 when it has none).
    pub epoch: u64,
}

/// A room as loaded from storage.
#[derive(Debug, Clone, Default)]
pub struct LoadedRoom {
    pub board: Board,
    pub seq: u64,
    /// Changes recorded since the latest snapshot.
    pub since_snapshot: u64,
    /// The last changes, ending with change `seq` (see `Recent`).
    pub recent: Recent,
    /// The last `op` accepted from each client.
    pub last_ops: HashMap<ClientId, u64>,
    /// Which incarnation of the room this is (see `RoomStore::append`);
    /// `None` while it has never recorded anything.
    pub epoch: Option<u64>,
    /// The latest snapshot's size, and the size of the log since it, in bytes.
    pub snapshot_bytes: usize,
    pub log_bytes_since_snapshot: usize,
    /// The latest change's seq, client and op, where the engine read it (a
    /// shared log's: see `Append::tip`).
    pub tip: Option<(u64, ClientId, u64)>,
}

/// What one commit of a room records.
#[derive(Debug, Clone, Default)]
pub struct Append {
    /// The accepted changes, in order.
    pub records: Vec<Record>,
    /// Recorded with the room's first change (and kept from then on).
    pub epoch: u64,
    /// With the room's first change: who made it, as the lobby groups rooms
    /// (an address; stored only as a keyed hash, `pseudonym`).
    pub creator: Option<String>,
    /// A snapshot of the board as of the last record, when one is due.
    pub snapshot: Option<Snapshot>,
    /// Whether to bring the room's lobby line up to date (seq, shape count, when it changed).
    pub refresh: bool,
    pub shape_count: usize,
    /// The client and op of the change the room holds at the seq these
    /// records follow, where it knows it: a shared log that no longer holds
    /// it there lost changes, and refuses the append (`StoreError::Rewound`).
    pub tip: Option<(ClientId, u64)>,
    /// The epoch of this node's lease on the room, where leases are kept
    /// (`lease.rs`): the store refuses the append if it is no longer the owner's.
    pub lease: Option<u64>,
}

/// A snapshot, and the client marks it vouches for.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The board, JSON.
    pub board: String,
    /// The last op accepted from each client whose mark moved since the last snapshot.
    pub marks: Vec<(ClientId, u64)>,
}

/// A room's access, as stored: whether it is private (never listed), and its
/// view-only token (`/v/{token}`), independent of its name. A room's access
/// exists from the moment it is made private or someone asks for its
/// view-only link, before the room stores any change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub private: bool,
    /// Opens the room read-only; `None` until someone asks for one.
    pub view_token: Option<String>,
}

/// One recorded change, as history shows it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub seq: u64,
    /// When it was recorded (server time, ms since 1970); `None` for changes
    /// recorded before times were (they read 0).
    pub at_ms: Option<i64>,
    pub change: Change,
}

/// The board as it was after change `seq`.
#[derive(Debug, Clone)]
pub struct Version {
    pub seq: u64,
    /// When change `seq` was recorded (`None` for version 0, or unknown).
    pub at_ms: Option<i64>,
    pub board: Board,
}

/// Milliseconds since 1970, the time every engine stores.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A stable, keyed hash of `what`: the same for the same input and key
/// (the engine's own), and meaningless without the key. How the lobby tells
/// who made a room without storing an address.
fn pseudonym(key: &[u8; 16], what: &str) -> String {
    use std::hash::Hasher;
    let mut hasher = siphasher::sip::SipHasher13::new_with_key(key);
    hasher.write(what.as_bytes());
    format!("{:016x}", hasher.finish())
}
