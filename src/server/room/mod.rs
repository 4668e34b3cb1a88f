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

mod commands;
mod feed;
mod follow;
mod hello;
mod lent;
mod record;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::fairness::{Fairness, Network};
use super::metrics::Metrics;
use super::presence::Lounge;
use super::storage::{LoadedRoom, Record, Store, StoreError};
use crate::model::{Board, Change, ClientId, RoomName};
use crate::protocol::ServerMsg;
pub use commands::{JoinError, RoomCmd};
pub use feed::{Cursor, Read};
use feed::{Deliveries, Feed, To};
pub use lent::{Left, Writer};

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

/// What every room of a server shares.
pub struct Shared {
    pub store: Store,
    pub fairness: Arc<Fairness>,
    pub metrics: Arc<Metrics>,
    /// The room's presence: only read here, to say who made each change.
    pub lounge: Arc<Lounge>,
}

/// What a retiring room calls, once, to take itself off the list of running rooms.
pub type Retire = Box<dyn FnOnce() + Send>;

/// The most commands handled in one batch (and so one commit).
const MAX_BATCH: usize = 256;
/// The most changes (a batch counting as its changes) one batch of commands
/// takes in past its first: one commit stays a bounded size.
const MAX_BATCH_CHANGES: usize = crate::model::MAX_BATCH;

/// Below this many missed changes a reconnecting client is always caught up
/// from the log; above it, only when that is no longer than a snapshot.
const CATCH_UP_ALWAYS: usize = 64;

/// Numbers about a running room that others may read without asking it.
#[derive(Debug, Default)]
pub struct RoomStats {
    pub members: AtomicU32,
    /// Shapes on the board as last recorded.
    pub shapes: AtomicU32,
    /// A private room, never listed.
    pub private: AtomicBool,
}

struct Member {
    client: ClientId,
    network: Network,
    /// The member's own queue, held only so that dropping the member closes
    /// it: its connection then closes with 4000 and the client resyncs.
    _queue: mpsc::Sender<Utf8Bytes>,
}

/// What a batch has decided and not yet told anyone: changes that passed
/// validation and await recording, and refusals judged against them. Both go
/// out, in order, only once the batch is recorded: a refusal judged against a
/// change that then failed to record must not reach its author.
enum Staged {
    Accepted { member: ConnId, network: Network, record: Record },
    Refused { member: ConnId, msg: Utf8Bytes },
}

pub struct Room {
    name: RoomName,
    store: Store,
    /// Everything the room sends its members, after their answers to hello.
    feed: Arc<Feed>,
    fairness: Arc<Fairness>,
    metrics: Arc<Metrics>,
    lounge: Arc<Lounge>,
    /// Taken (and called) when the room retires.
    retire: Option<Retire>,
    stats: Arc<RoomStats>,
    idle_grace: Duration,
    max_members: usize,
    board: Board,
    seq: u64,
    /// Where the room's record on disk stands, and when to write more of it.
    disk: record::DiskState,
    /// This incarnation of the room (see `Store::append`): as stored, or for
    /// a room that has stored nothing yet, drawn when it loads and stored
    /// with its first change.
    epoch: u64,
    /// The latest changes, ending with change `seq`: what a client that
    /// reconnects after a short drop is sent instead of a whole snapshot.
    recent: VecDeque<Change>,
    /// The board as `board` messages and the `seq` they show (see
    /// `board_parts`): a burst of joins (a class opening one link) encodes a
    /// big board once, and every joiner is sent the same bytes.
    board_parts: Option<(u64, Arc<[Utf8Bytes]>)>,
    /// The last `op` accepted from each client: anything at or below it is a
    /// repeat (a re-send after a reconnect) and is not applied again.
    last_ops: HashMap<ClientId, u64>,
    members: HashMap<ConnId, Member>,
    staged: Vec<Staged>,
    /// The seq the staged changes follow.
    staged_from: u64,
    /// With a Redis log: the changes behind `staged`, as they came, to judge
    /// again if another node appended first (`follow`).
    asked: Vec<(ConnId, u64, Change)>,
    /// With a Redis log: the room's own mailbox, for the task that wakes it
    /// when the log grows (weak: it must not keep the room alive).
    mailbox: Option<mpsc::WeakSender<RoomCmd>>,
    /// Tells this node's viewers their link was replaced (by another node, too).
    revoked: Option<watch::Sender<u64>>,
    /// The member count changed since the last `presence` broadcast. Told at
    /// most once per `PRESENCE_EVERY`, so a burst of joins or leaves costs one
    /// message per member, not one per join.
    presence_dirty: bool,
    /// When the member count was last told.
    presence_told: Instant,
}

/// The least time between two broadcasts of the member count. The room writes
/// each broadcast to every caught-up member's socket at once (`feed.rs`): told
/// once per leave, 300 tabs closing together cost 300 writes per member, and
/// delayed everyone's changes by a tenth of a second.
const PRESENCE_EVERY: Duration = Duration::from_millis(50);

impl Room {
    /// A room that will load `name` from `store` when run, and call `retire`
    /// when it stops.
    pub fn new(name: RoomName, shared: Shared, stats: Arc<RoomStats>, limits: RoomLimits, retire: Retire) -> Room {
        let Shared { store, fairness, metrics, lounge } = shared;
        Room {
            name,
            store,
            feed: Feed::new(Deliveries::counted_by(&metrics)),
            fairness,
            metrics,
            lounge,
            retire: Some(retire),
            stats,
            idle_grace: limits.idle_grace,
            max_members: limits.max_members,
            board: Board::new(),
            seq: 0,
            disk: record::DiskState::default(),
            epoch: 0,
            recent: VecDeque::new(),
            board_parts: None,
            last_ops: HashMap::new(),
            members: HashMap::new(),
            staged: Vec::new(),
            staged_from: 0,
            asked: Vec::new(),
            mailbox: None,
            revoked: None,
            presence_dirty: false,
            presence_told: Instant::now(),
        }
    }

    /// Gives the room its own mailbox, so that with a Redis log it can be
    /// woken when another node appends, and its viewers' cue to leave.
    pub fn with_mailbox(mut self, tx: &mpsc::Sender<RoomCmd>, revoked: watch::Sender<u64>) -> Room {
        self.mailbox = Some(tx.downgrade());
        self.revoked = Some(revoked);
        self
    }

    /// The actor's life: load, serve, retire.
    pub async fn run(mut self, mut rx: mpsc::Receiver<RoomCmd>) {
        // Noted before loading, so an expiry sweep either deleted the room
        // already (it loads empty) or spares it.
        if let Err(e) = self.store.opened(&self.name).await {
            tracing::warn!(room = %self.name, error = %e, "could not note that the room was opened");
        }
        match self.store.access(&self.name).await {
            Ok(access) => self.stats.private.store(access.is_some_and(|a| a.private), Ordering::Relaxed),
            // Unknown, so kept out of the lobby: a private room must never be listed by mistake.
            Err(e) => {
                tracing::warn!(room = %self.name, error = %e, "could not read the room's access");
                self.stats.private.store(true, Ordering::Relaxed);
            }
        }
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
        self.wake_on_appends();

        // Whether a command has come yet: a room is started for a join, which
        // may reach the mailbox only after the room has loaded.
        let mut served = false;
        loop {
            let first = if self.members.is_empty() {
                // Nothing within the grace period counts as "no more commands".
                // A room that never stored anything has nothing worth keeping
                // warm, once the join it was started for has come and gone.
                let grace = if self.seq == 0 && served { Duration::ZERO } else { self.idle_grace };
                tokio::time::timeout(grace, rx.recv()).await.ok().flatten()
            } else {
                // A member count held back (`PRESENCE_EVERY`) is told when due.
                let due = self.presence_dirty.then(|| self.presence_told + PRESENCE_EVERY);
                let told = async {
                    match due {
                        Some(due) => tokio::time::sleep_until(due).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    cmd = rx.recv() => cmd,
                    () = told => {
                        self.tell_presence();
                        continue;
                    }
                }
            };
            let Some(first) = first else { break };
            let mut batch = Vec::with_capacity(8);
            let mut changes = weight(&first);
            batch.push(first);
            while batch.len() < MAX_BATCH && changes < MAX_BATCH_CHANGES {
                match rx.try_recv() {
                    Ok(cmd) => {
                        changes += weight(&cmd);
                        batch.push(cmd);
                    }
                    Err(_) => break,
                }
            }
            served = true;
            if let Err(e) = self.handle_batch(batch).await {
                tracing::error!(room = %self.name, error = %e, "room storage failed beyond recovery; closing it");
                break;
            }
        }
        self.retire(&mut rx, None).await;
    }

    fn install(&mut self, room: LoadedRoom) {
        self.disk = record::DiskState::loaded(&room);
        self.board = room.board;
        self.seq = room.seq;
        // 53 random bits: exact in JavaScript, and never 0 (rooms older than epochs).
        self.epoch = room.epoch.unwrap_or_else(|| rand::random::<u64>() >> 11 | 1);
        self.recent = room.recent;
        self.board_parts = None;
        self.last_ops = room.last_ops;
        self.stats.shapes.store(u32::try_from(self.board.len()).unwrap_or(u32::MAX), Ordering::Relaxed);
    }

    /// Leaves the registry, then answers whatever is still queued so nobody
    /// waits on a room that is gone. Joins that slipped in get no answer: their
    /// connection sees the reply dropped and asks the registry again, which
    /// starts a fresh actor.
    async fn retire(&mut self, rx: &mut mpsc::Receiver<RoomCmd>, reason: Option<JoinError>) {
        if let Some(retire) = self.retire.take() {
            retire();
        }
        // The lobby reads a retired room's row: leave it up to date.
        if let Err(e) = self.refresh_row().await {
            tracing::warn!(room = %self.name, error = %e, "could not bring the room's row up to date");
        }
        rx.close();
        while let Some(cmd) = rx.recv().await {
            if let (RoomCmd::Join { reply, .. }, Some(reason)) = (cmd, &reason) {
                let _ = reply.send(Err(reason.clone()));
            }
        }
        self.members.clear();
        self.feed.close();
        self.stats.members.store(0, Ordering::Relaxed);
        tracing::debug!(room = %self.name, "room retired");
    }

    /// Handles commands in arrival order. Changes are staged (applied to the
    /// board, not yet visible to anyone) and flushed as one commit before any
    /// join or leave, so a joiner's snapshot never shows an unrecorded change.
    async fn handle_batch(&mut self, batch: Vec<RoomCmd>) -> Result<(), StoreError> {
        for cmd in batch {
            match cmd {
                RoomCmd::Change { member, op, change, keep } => {
                    if self.store.log().is_some() {
                        self.asked.push((member, op, change.clone()));
                    }
                    self.stage(member, op, change);
                    // Taken in: what it held for the change is free again.
                    drop(keep);
                }
                RoomCmd::Tail => {
                    self.flush().await?;
                    self.follow_log().await?;
                }
                RoomCmd::Join { member, client, network, at, viewer, out, reply } => {
                    self.flush().await?;
                    // A joiner on this node sees what every node recorded.
                    self.follow_log().await?;
                    let _ = reply.send(self.join(member, client, network, at, viewer, out));
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
        // Else the run loop tells it when due.
        if self.presence_told.elapsed() >= PRESENCE_EVERY {
            self.tell_presence();
        }
        Ok(())
    }

    /// Tells every member how many are in the room, if that changed.
    fn tell_presence(&mut self) {
        if !self.presence_dirty {
            return;
        }
        self.presence_dirty = false;
        self.presence_told = Instant::now();
        let members = self.members.len() as u32;
        self.feed.push(To::All, Utf8Bytes::from(ServerMsg::Presence { members }.to_json()));
    }

    fn presence_changed(&mut self) {
        self.stats.members.store(self.members.len() as u32, Ordering::Relaxed);
        self.presence_dirty = true;
    }

    fn drop_members(&mut self, ids: Vec<ConnId>) {
        for id in ids {
            if self.members.remove(&id).is_some() {
                self.feed.forget(id);
                tracing::info!(room = %self.name, member = %id, "closing a member's connection for a resync");
                self.presence_changed();
            }
        }
    }
}

/// How many changes a command brings (a batch counts as its changes).
fn weight(cmd: &RoomCmd) -> usize {
    match cmd {
        RoomCmd::Change { change, .. } => change.parts().len(),
        _ => 1,
    }
}
