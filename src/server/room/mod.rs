//! The room actor: one tokio task per active room that owns the room's board
//! and its members.
//!
//! Every change to a room passes through this task, which is what orders them:
//! it validates a change against the board, gives it the room's next sequence
//! number, records it, and only then sends it to every member (the author's copy
//! is its confirmation). Commands that arrive together are handled as one
//! batch with one storage commit, so recording costs one fsync per batch, not
//! one per change. A room with no members for `idle_grace` retires; the next
//! join revives it from storage. (`hello.rs` answers a joiner's hello.)

mod hello;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, oneshot};

use super::storage::{LoadedRoom, RECENT_CHANGES, Record, SNAPSHOT_EVERY, Store, StoreError};
use crate::model::{Board, Change, ClientId, RoomName};
use crate::protocol::{EncodedBoard, ErrorCode, Position, ServerMsg};

/// One connection, as its room knows it: numbered by the server, never shown to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// How many rooms may run, and what each may hold.
#[derive(Debug, Clone, Copy)]
pub struct RoomLimits {
    /// An empty room stays loaded this long before it retires.
    pub idle_grace: Duration,
    /// Rooms loaded at once; past it, joining a room that is not loaded fails.
    pub max_rooms: usize,
    /// Members (connections) per room.
    pub max_members: usize,
}

/// What a retiring room calls, once, to take itself off the list of running rooms.
pub type Retire = Box<dyn FnOnce() + Send>;

/// The most commands handled in one batch (and so one commit).
const MAX_BATCH: usize = 256;

/// What a connection asks of its room.
#[derive(Debug)]
pub enum RoomCmd {
    Join {
        member: ConnId,
        client: ClientId,
        /// Where the board the client already holds stands, if it holds one.
        at: Option<Position>,
        /// Where the room sends this member's messages. When the room drops it,
        /// the member has been removed and must reconnect to resynchronise.
        out: mpsc::Sender<Utf8Bytes>,
        reply: oneshot::Sender<Result<(), JoinError>>,
    },
    Leave {
        member: ConnId,
    },
    Change {
        member: ConnId,
        op: u64,
        change: Change,
    },
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum JoinError {
    #[error("the room could not be loaded: {0}")]
    LoadFailed(Arc<StoreError>),
    #[error("the room's board could not be encoded: {0}")]
    Encoding(Arc<serde_json::Error>),
    #[error("the room kept closing while joining it; try again")]
    KeptClosing,
    #[error("the room is full: it allows {0} people at once")]
    Full(usize),
    #[error("the server has {0} rooms open, as many as it allows: try again later")]
    Busy(usize),
}

/// Below this many missed changes a reconnecting client is always caught up
/// from the log; above it, only when that is no longer than a snapshot.
const CATCH_UP_ALWAYS: usize = 64;

/// Numbers about a running room that others may read without asking it.
#[derive(Debug, Default)]
pub struct RoomStats {
    pub members: AtomicU32,
}

struct Member {
    client: ClientId,
    out: mpsc::Sender<Utf8Bytes>,
}

/// What a batch has decided and not yet told anyone: changes that passed
/// validation and await recording, and refusals judged against them. Both go
/// out, in order, only once the batch is recorded: a refusal judged against a
/// change that then failed to record must not reach its author.
enum Staged {
    Accepted { member: ConnId, record: Record },
    Refused { member: ConnId, msg: Utf8Bytes },
}

pub struct Room {
    name: RoomName,
    store: Store,
    /// Taken (and called) when the room retires.
    retire: Option<Retire>,
    stats: Arc<RoomStats>,
    idle_grace: Duration,
    max_members: usize,
    board: Board,
    seq: u64,
    since_snapshot: u64,
    /// This incarnation of the room (see `Store::append`): as stored, or for
    /// a room that has stored nothing yet, drawn when it loads and stored
    /// with its first change.
    epoch: u64,
    /// The latest changes, ending with change `seq`: what a client that
    /// reconnects after a short drop is sent instead of a whole snapshot.
    recent: VecDeque<Change>,
    /// The board as JSON and the `seq` it shows (see `encoded_board`): a
    /// burst of joins (a class opening one link) serialises a big board once,
    /// not once per joiner, and a snapshot reuses it.
    board_json: Option<(u64, EncodedBoard)>,
    /// The last `op` accepted from each client: anything at or below it is a
    /// repeat (a re-send after a reconnect) and is not applied again.
    last_ops: HashMap<ClientId, u64>,
    members: HashMap<ConnId, Member>,
    staged: Vec<Staged>,
    /// The member count changed since the last `presence` broadcast. Sent once
    /// per batch, so a burst of joins costs one message per member, not one per join.
    presence_dirty: bool,
}

impl Room {
    /// A room that will load `name` from `store` when run, and call `retire`
    /// when it stops.
    pub fn new(name: RoomName, store: Store, stats: Arc<RoomStats>, limits: RoomLimits, retire: Retire) -> Room {
        Room {
            name,
            store,
            retire: Some(retire),
            stats,
            idle_grace: limits.idle_grace,
            max_members: limits.max_members,
            board: Board::new(),
            seq: 0,
            since_snapshot: 0,
            epoch: 0,
            recent: VecDeque::new(),
            board_json: None,
            last_ops: HashMap::new(),
            members: HashMap::new(),
            staged: Vec::new(),
            presence_dirty: false,
        }
    }

    /// The actor's life: load, serve, retire.
    pub async fn run(mut self, mut rx: mpsc::Receiver<RoomCmd>) {
        let loaded = self.store.load_room(&self.name).await;
        match loaded {
            Ok(room) => self.install(room),
            Err(e) => {
                tracing::error!(room = %self.name, error = %e, "could not load room");
                self.retire(&mut rx, Some(JoinError::LoadFailed(Arc::new(e)))).await;
                return;
            }
        }
        tracing::debug!(room = %self.name, seq = self.seq, shapes = self.board.len(), "room loaded");

        loop {
            let first = if self.members.is_empty() {
                // Nothing within the grace period counts as "no more commands".
                tokio::time::timeout(self.idle_grace, rx.recv()).await.ok().flatten()
            } else {
                rx.recv().await
            };
            let Some(first) = first else { break };
            let mut batch = Vec::with_capacity(8);
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(cmd) => batch.push(cmd),
                    Err(_) => break,
                }
            }
            if let Err(e) = self.handle_batch(batch).await {
                tracing::error!(room = %self.name, error = %e, "room storage failed beyond recovery; closing it");
                break;
            }
        }
        self.retire(&mut rx, None).await;
    }

    fn install(&mut self, room: LoadedRoom) {
        self.board = room.board;
        self.seq = room.seq;
        self.since_snapshot = room.since_snapshot;
        // 53 random bits: exact in JavaScript, and never 0 (rooms older than epochs).
        self.epoch = room.epoch.unwrap_or_else(|| rand::random::<u64>() >> 11 | 1);
        self.recent = room.recent;
        self.board_json = None;
        self.last_ops = room.last_ops;
    }

    /// Leaves the registry, then answers whatever is still queued so nobody
    /// waits on a room that is gone. Joins that slipped in get no answer: their
    /// connection sees the reply dropped and asks the registry again, which
    /// starts a fresh actor.
    async fn retire(&mut self, rx: &mut mpsc::Receiver<RoomCmd>, reason: Option<JoinError>) {
        if let Some(retire) = self.retire.take() {
            retire();
        }
        rx.close();
        while let Some(cmd) = rx.recv().await {
            if let (RoomCmd::Join { reply, .. }, Some(reason)) = (cmd, &reason) {
                let _ = reply.send(Err(reason.clone()));
            }
        }
        self.members.clear();
        self.stats.members.store(0, Ordering::Relaxed);
        tracing::debug!(room = %self.name, "room retired");
    }

    /// Handles commands in arrival order. Changes are staged (applied to the
    /// board, not yet visible to anyone) and flushed as one commit before any
    /// join or leave, so a joiner's snapshot never shows an unrecorded change.
    async fn handle_batch(&mut self, batch: Vec<RoomCmd>) -> Result<(), StoreError> {
        for cmd in batch {
            match cmd {
                RoomCmd::Change { member, op, change } => self.stage(member, op, change),
                RoomCmd::Join { member, client, at, out, reply } => {
                    self.flush().await?;
                    let _ = reply.send(self.join(member, client, at, out));
                }
                RoomCmd::Leave { member } => {
                    self.flush().await?;
                    if self.members.remove(&member).is_some() {
                        self.presence_changed();
                    }
                }
            }
        }
        self.flush().await?;
        // Broadcasting presence can drop a member that fell behind, which
        // changes the count again; each round removes someone, so this ends.
        while self.presence_dirty {
            self.presence_dirty = false;
            let members = self.members.len() as u32;
            self.broadcast(Utf8Bytes::from(ServerMsg::Presence { members }.to_json()), None);
        }
        Ok(())
    }

    fn stage(&mut self, member: ConnId, op: u64, change: Change) {
        let Some(client) = self.members.get(&member).map(|m| m.client.clone()) else {
            // Its connection left while the change was queued.
            return;
        };
        let last_op = self.last_ops.get(&client).copied().unwrap_or(0);
        let refusal = if op <= last_op {
            let why =
                format!("op {op} is not above {last_op}, the last op accepted from this client; not applied again");
            Some(ServerMsg::error(ErrorCode::StaleOp, why, Some(op)))
        } else {
            self.board
                .apply(&change)
                .err()
                .map(|e| ServerMsg::error(ErrorCode::for_change_error(&e), e.to_string(), Some(op)))
        };
        if let Some(msg) = refusal {
            self.staged.push(Staged::Refused { member, msg: Utf8Bytes::from(msg.to_json()) });
            return;
        }
        self.seq += 1;
        self.last_ops.insert(client.clone(), op);
        self.staged.push(Staged::Accepted { member, record: Record { seq: self.seq, client, op, change } });
    }

    /// Records the staged changes, then broadcasts them. If recording fails,
    /// the room reloads itself from storage (which drops whatever was not
    /// recorded) and closes every member's connection for a resync: their
    /// welcome then shows exactly what was recorded, and `last_op` tells each
    /// author which of its changes to send again. Only if the reload fails
    /// too does the room give up.
    async fn flush(&mut self) -> Result<(), StoreError> {
        if self.staged.is_empty() {
            return Ok(());
        }
        let staged = std::mem::take(&mut self.staged);
        let records: Vec<Record> = staged
            .iter()
            .filter_map(|s| match s {
                Staged::Accepted { record, .. } => Some(record.clone()),
                Staged::Refused { .. } => None,
            })
            .collect();
        let accepted = records.len() as u64;
        let snapshot_due = self.since_snapshot + accepted >= SNAPSHOT_EVERY;
        let snapshot = snapshot_due.then(|| self.encoded_board().map(|b| b.get().to_owned())).transpose();
        let snapshot = snapshot.unwrap_or_else(|e| {
            tracing::warn!(room = %self.name, error = %e, "could not encode a snapshot; will retry");
            None
        });
        let wrote_snapshot = snapshot.is_some();
        let recorded = if records.is_empty() {
            Ok(())
        } else {
            self.store.append(&self.name, self.epoch, records, self.board.len(), snapshot).await
        };
        if let Err(e) = recorded {
            tracing::error!(room = %self.name, error = %e, "could not record changes; reloading and resyncing members");
            self.install(self.store.load_room(&self.name).await?);
            let everyone: Vec<ConnId> = self.members.keys().copied().collect();
            self.drop_members(everyone);
            return Ok(());
        }
        self.since_snapshot = if wrote_snapshot { 0 } else { self.since_snapshot + accepted };
        for staged in staged {
            let (member, Record { seq, op, change, .. }) = match staged {
                Staged::Accepted { member, record } => (member, record),
                Staged::Refused { member, msg } => {
                    self.send_to(member, msg);
                    continue;
                }
            };
            if self.recent.len() == RECENT_CHANGES {
                self.recent.pop_front();
            }
            self.recent.push_back(change.clone());
            // Everyone gets the same bytes, but for the author, whose copy
            // carries its `op` as the confirmation.
            let for_author =
                Utf8Bytes::from(ServerMsg::Applied { seq, change: change.clone(), op: Some(op) }.to_json());
            let for_others = Utf8Bytes::from(ServerMsg::Applied { seq, change, op: None }.to_json());
            self.broadcast(for_others, Some(member));
            self.send_to(member, for_author);
        }
        Ok(())
    }

    fn presence_changed(&mut self) {
        self.stats.members.store(self.members.len() as u32, Ordering::Relaxed);
        self.presence_dirty = true;
    }

    fn send_to(&mut self, member: ConnId, msg: Utf8Bytes) {
        let failed = self.members.get(&member).is_some_and(|m| m.out.try_send(msg).is_err());
        if failed {
            self.drop_members(vec![member]);
        }
    }

    /// Sends one message, serialised once, to every member but `except`. A
    /// member whose queue is full has fallen too far behind to catch up from
    /// the stream: it is dropped (its connection closes with a "resync" code)
    /// rather than silently missing a change.
    fn broadcast(&mut self, msg: Utf8Bytes, except: Option<ConnId>) {
        let mut behind = Vec::new();
        for (id, m) in &self.members {
            if Some(*id) != except && m.out.try_send(msg.clone()).is_err() {
                behind.push(*id);
            }
        }
        if !behind.is_empty() {
            self.drop_members(behind);
        }
    }

    fn drop_members(&mut self, ids: Vec<ConnId>) {
        for id in ids {
            if self.members.remove(&id).is_some() {
                tracing::info!(room = %self.name, member = %id, "closing a member's connection for a resync");
                self.presence_changed();
            }
        }
    }
}
