//! The engine for several nodes: the rooms' logs in a Redis they share
//! (docs/operations.md, "Several nodes"). `log.rs` appends, reads and loads a
//! room's log; `reads.rs` answers access and history; `lobby.rs` keeps the
//! lobby's stored rooms; `expiry.rs` when rooms were opened and deleting the
//! ones nobody opened for long; `functions.lua` is the Functions library that
//! makes each write to a room one atomic step.
//!
//! Per room, under keys hash-tagged by the room (`sb:{R}:…`, see `Keys`): its
//! log, a stream whose entry ids are the changes' seqs; `meta`, the head,
//! epoch, snapshot mark and when it was opened; `ops`, each client's mark;
//! `snap` and `frames`, the latest snapshot and every snapshot kept (the
//! keyframes of history); `access`; `owner` and `lease`, which node may
//! append (`lease.rs`). With an archive (`--history-url`), the log and the
//! keyframes keep only what is newer than the hot tail (`archiving.rs`). With `appendfsync always` a reply means
//! "on disk".

mod archiving;
mod expiry;
mod keys;
mod lease;
mod lobby;
mod log;
pub(crate) mod migrate;
mod reads;
mod store;

use std::sync::atomic::Ordering;

use super::{
    Access, Append, Claim, Head, LoadedRoom, LobbyRoom, LogEntry, Logged, Owner, RoomStore, StoreError, Version,
    now_ms, pseudonym,
};
use keys::{failed, keys};
pub(crate) use log::Appended;
use redis::AsyncCommands;
use sketchboard_core::model::RoomName;
pub(crate) use store::RedisStore;

/// How often, at most, the lobby forgets rooms too old to be listed.
const TIDY_LOBBY_EVERY_MS: i64 = 60_000;

#[async_trait::async_trait]
impl RoomStore for RedisStore {
    async fn load_room(&self, room: &RoomName) -> Result<LoadedRoom, StoreError> {
        self.load(room).await
    }

    async fn append(&self, room: &RoomName, append: Append) -> Result<(), StoreError> {
        let (Some(first), Some(last)) = (append.records.first(), append.records.last()) else { return Ok(()) };
        let (expected, last_seq) = (first.seq - 1, last.seq);
        let epochs = (append.epoch, append.lease);
        match self.append_records(room, expected, append.tip.as_ref(), epochs, now_ms(), &append.records).await? {
            Appended::Recorded { head, archived, .. } => self.archive_when_due(room, head, archived, append.lease),
            Appended::Fenced { owner } => return Err(StoreError::Fenced { owner }),
            Appended::Conflict { head } => return Err(StoreError::HeadMoved { head }),
            Appended::Rewound { head } => return Err(StoreError::Rewound { head }),
            Appended::Stale { index, mark } => return Err(StoreError::StaleOp { index, mark }),
        }
        if let Some(snapshot) = &append.snapshot {
            self.snapshot(room, last_seq, &snapshot.board).await?;
        }
        // When SQLite would refresh the room's row: its first change, snapshots, once a minute.
        if append.refresh || append.snapshot.is_some() || append.creator.is_some() {
            let creator = append.creator.as_deref().map(|c| pseudonym(&self.address_key, c));
            self.list(room, now_ms(), append.shape_count, creator.as_deref()).await?;
        }
        if append.creator.is_some() {
            // Its first change: stored now, so opened now (as SQLite's new row says).
            self.note_opened(room, now_ms()).await?;
        }
        Ok(())
    }

    async fn read_log(&self, room: &RoomName, after: u64, limit: usize) -> Result<Vec<LogEntry>, StoreError> {
        self.read(room, after, Some(limit)).await
    }

    async fn refresh_row(&self, room: &RoomName, _seq: u64, shape_count: usize) -> Result<(), StoreError> {
        // The head is the log's own; the lobby needs the time and the shapes.
        self.list(room, now_ms(), shape_count, None).await
    }

    async fn opened(&self, room: &RoomName, at_ms: i64) -> Result<(), StoreError> {
        self.note_opened(room, at_ms).await
    }

    async fn expire(&self, cutoff_ms: i64, keep: Vec<RoomName>) -> Result<usize, StoreError> {
        self.expire_unopened(cutoff_ms, &keep).await
    }

    async fn list_rooms(&self, within_ms: i64, per_creator: usize, limit: usize) -> Result<Vec<LobbyRoom>, StoreError> {
        let now = now_ms();
        let since = now - within_ms;
        let last = self.lobby_tidied.load(Ordering::Relaxed);
        if now - last >= TIDY_LOBBY_EVERY_MS
            && self.lobby_tidied.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            // The listing reads only newer rooms: this keeps the lobby's keys small.
            self.forget_older(since).await?;
        }
        self.listed(since, per_creator, limit).await
    }

    async fn access(&self, room: &RoomName) -> Result<Option<Access>, StoreError> {
        self.read_access(room).await
    }

    async fn room_for_token(&self, token: &str) -> Result<Option<RoomName>, StoreError> {
        self.token_room(token).await
    }

    async fn set_access(&self, room: &RoomName, access: Access) -> Result<(), StoreError> {
        if access.private {
            self.unlist(room).await?;
        }
        self.write_access(room, &access).await
    }

    async fn head(&self, room: &RoomName) -> Result<Head, StoreError> {
        self.read_head(room).await
    }

    async fn changes(&self, room: &RoomName, after: u64, limit: usize) -> Result<Vec<Logged>, StoreError> {
        self.page(room, after, limit).await
    }

    async fn version(&self, room: &RoomName, seq: u64) -> Result<Option<Version>, StoreError> {
        self.board_at(room, seq).await
    }

    async fn new_epoch(&self, room: &RoomName, epoch: u64) -> Result<(), StoreError> {
        let _: i64 =
            self.conn().hset(keys(room).meta, "epoch", epoch).await.map_err(failed("giving a room a new epoch"))?;
        Ok(())
    }

    async fn claim(&self, room: &RoomName, held: Option<u64>) -> Result<Claim, StoreError> {
        self.claim_lease(room, held).await
    }

    async fn release(&self, room: &RoomName, epoch: u64) -> Result<(), StoreError> {
        self.release_lease(room, epoch).await
    }

    async fn owner(&self, room: &RoomName) -> Result<Option<Owner>, StoreError> {
        self.read_owner(room).await
    }

    async fn settle(&self, room: &RoomName, lease: Option<u64>) {
        self.archive_in_background(room, lease);
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.conn().ping().await.map_err(failed("pinging Redis"))
    }
}
