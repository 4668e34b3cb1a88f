//! The room actor itself: the `Room` and its life (load, serve batches,
//! retire). `batch.rs`, `members.rs`, `follow.rs` and `owning.rs` add to it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::commands::{JoinError, RoomCmd};
use super::conn_id::ConnId;
use super::feed::{Deliveries, Feed};
use super::state::RoomState;
use crate::server::fairness::{Fairness, Network};
use crate::server::frame::Frame;
use crate::server::metrics::Metrics;
use crate::server::peers;
use crate::server::presence::RoomPresence;
use crate::server::storage::{Store, StoreError, now_ms};
use sketchboard_core::model::{ClientId, RoomName};

/// How many rooms may run, and what each may hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoomLimits {
    /// An empty room stays loaded this long before it retires.
    pub idle_grace: Duration,
    /// Rooms loaded at once; past it, joining a room that is not loaded fails.
    pub max_rooms: usize,
    /// Members (connections) per room.
    pub max_members: usize,
}

/// What every room of a server shares.
pub(crate) struct Shared {
    pub store: Store,
    pub peers: peers::Shared,
    pub fairness: Arc<Fairness>,
    pub metrics: Arc<Metrics>,
    /// The room's presence: only read here, to say who made each change.
    pub room_presence: Arc<RoomPresence>,
}

/// What a retiring room calls, once, to take itself off the list of running rooms.
pub(crate) type Retire = Box<dyn FnOnce() + Send>;

/// The most commands handled in one batch (and so one commit).
const MAX_BATCH: usize = 256;
/// The most changes (a batch counting as its changes) one batch of commands
/// takes in past its first: one commit stays a bounded size.
const MAX_BATCH_CHANGES: usize = sketchboard_core::model::MAX_BATCH;
/// How often a room that stays loaded notes that it is open (expiry spares it).
const NOTE_OPENED_EVERY: Duration = Duration::from_secs(3600);

/// Numbers about a running room that others may read without asking it.
#[derive(Debug, Default)]
pub(crate) struct RoomStats {
    pub members: AtomicU32,
    /// Shapes on the board as last recorded.
    pub shapes: AtomicU32,
    /// A private room, never listed.
    pub private: AtomicBool,
    /// Something was ever recorded in it: a room that holds work, which
    /// never gives its place to another (`registry`).
    pub changed: AtomicBool,
    /// This node holds the room's lease (`owning.rs`): its writers are served here.
    pub owned: AtomicBool,
}

/// The least time between two broadcasts of the member count. The room writes
/// each broadcast to every caught-up member's socket at once (`feed`): told
/// once per leave, 300 tabs closing together cost 300 writes per member, and
/// delayed everyone's changes by a tenth of a second.
const COUNT_EVERY: Duration = Duration::from_millis(50);

pub(super) struct Member {
    pub(super) client: ClientId,
    pub(super) network: Network,
    /// The member's own queue, held only so that dropping the member closes
    /// it: its connection then closes with 4000 and the client resyncs.
    pub(super) _queue: mpsc::Sender<Frame>,
}

pub(super) type Members = HashMap<ConnId, Member>;

/// Whether the member count changed since it was last told, and when that was.
pub(super) struct MemberCount {
    pub(super) changed: bool,
    pub(super) told: Instant,
}

impl Default for MemberCount {
    fn default() -> Self {
        MemberCount { changed: false, told: Instant::now() }
    }
}

impl MemberCount {
    /// Ready when a changed count is due to be told (never, while it has not changed).
    pub(super) async fn due(&self) {
        if self.changed {
            tokio::time::sleep_until(self.told + COUNT_EVERY).await;
        } else {
            std::future::pending::<()>().await;
        }
    }

    /// Whether a changed count may be told now.
    pub(super) fn may_tell(&self) -> bool {
        self.told.elapsed() >= COUNT_EVERY
    }
}

pub(crate) struct Room {
    pub(super) name: RoomName,
    /// The board and the room's authority over it (empty until loaded).
    pub(super) state: RoomState,
    pub(super) shared: Shared,
    /// Everything the room sends its members, after their answers to hello.
    pub(super) feed: Arc<Feed>,
    pub(super) members: Members,
    pub(super) count: MemberCount,
    /// Taken (and called) when the room retires.
    pub(super) retire: Option<Retire>,
    pub(super) stats: Arc<RoomStats>,
    pub(super) limits: RoomLimits,
    /// The room's own mailbox, for the task that wakes it when another node
    /// appends (weak: it must not keep the room alive).
    pub(super) mailbox: Option<mpsc::WeakSender<RoomCmd>>,
    /// Tells this node's viewers their link was replaced (by another node, too).
    pub(super) revoked: Option<watch::Sender<u64>>,
    /// When the room last noted that it is open.
    pub(super) opened_noted: Instant,
    /// This node's lease on the room, while it holds one (`lease.rs`).
    pub(super) lease: Option<super::lease::Held>,
    /// The server stops: the room retires after this batch.
    pub(super) stopping: bool,
}

impl Room {
    /// A room that will load `name` from the store when run, and call `retire`
    /// when it stops.
    pub(crate) fn new(
        name: RoomName,
        shared: Shared,
        stats: Arc<RoomStats>,
        limits: RoomLimits,
        retire: Retire,
    ) -> Room {
        let state = RoomState::loaded(name.clone(), Default::default(), fresh_epoch(), Instant::now().into_std());
        Room {
            name,
            state,
            feed: Feed::new(Deliveries::counted_by(&shared.metrics)),
            shared,
            members: HashMap::new(),
            count: MemberCount::default(),
            retire: Some(retire),
            stats,
            limits,
            mailbox: None,
            revoked: None,
            opened_noted: Instant::now(),
            lease: None,
            stopping: false,
        }
    }

    /// Gives the room its own mailbox, so that with other nodes it can be
    /// woken when they append, and its viewers' cue to leave.
    pub(crate) fn with_mailbox(mut self, tx: &mpsc::Sender<RoomCmd>, revoked: watch::Sender<u64>) -> Room {
        self.mailbox = Some(tx.downgrade());
        self.revoked = Some(revoked);
        self
    }

    /// The actor's life: load, serve, retire.
    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<RoomCmd>) {
        let store = self.shared.store.clone();
        // Noted before loading, so an expiry sweep either deleted the room
        // already (it loads empty) or spares it.
        if let Err(e) = store.opened(&self.name, now_ms()).await {
            tracing::warn!(room = %self.name, error = %e, "could not note that the room was opened");
        }
        match store.access(&self.name).await {
            Ok(access) => self.stats.private.store(access.is_some_and(|a| a.private), Ordering::Relaxed),
            // Unknown, so kept out of the lobby: a private room must never be listed by mistake.
            Err(e) => {
                tracing::warn!(room = %self.name, error = %e, "could not read the room's access");
                self.stats.private.store(true, Ordering::Relaxed);
            }
        }
        if let Err(e) = self.reload().await {
            tracing::error!(room = %self.name, error = %e, "could not load room");
            self.retire(&mut rx, Some(JoinError::LoadFailed(Arc::new(e)))).await;
            return;
        }
        tracing::debug!(room = %self.name, seq = self.state.seq(), shapes = self.state.board().len(), "room loaded");
        self.wake_on_appends();

        // Whether a command has come yet: a room is started for a join, which
        // may reach the mailbox only after the room has loaded.
        let mut served = false;
        let mut last_served = Instant::now();
        loop {
            // Nothing within the grace period counts as "no more commands".
            // A room that never stored anything has nothing worth keeping
            // warm, once the join it was started for has come and gone.
            let grace = if self.state.seq() == 0 && served { Duration::ZERO } else { self.limits.idle_grace };
            let (idle, deadline) = (self.members.is_empty(), last_served + grace);
            let next = async {
                if idle { tokio::time::timeout_at(deadline, rx.recv()).await.ok().flatten() } else { rx.recv().await }
            };
            let first = tokio::select! {
                cmd = next => cmd,
                // A member count held back (`MemberCount`) is told when due.
                () = self.count.due(), if !idle => {
                    self.tell_member_count();
                    continue;
                }
                () = super::lease::due(self.lease) => {
                    if let Err(e) = self.renew_lease().await {
                        tracing::error!(room = %self.name, error = %e, "room storage failed beyond recovery; closing it");
                        break;
                    }
                    continue;
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
            // A claim before a writer's socket opens (`Own`) is not the join
            // it comes before: the room waits for that join.
            served |= batch.iter().any(|cmd| !matches!(cmd, RoomCmd::Own { .. }));
            last_served = Instant::now();
            if let Err(e) = self.handle_batch(batch).await {
                tracing::error!(room = %self.name, error = %e, "room storage failed beyond recovery; closing it");
                break;
            }
            if self.stopping {
                break;
            }
        }
        self.retire(&mut rx, None).await;
    }

    /// Loads the room from the store, replacing whatever it held.
    pub(super) async fn reload(&mut self) -> Result<(), StoreError> {
        let loaded = self.shared.store.load_room(&self.name).await?;
        self.state = RoomState::loaded(self.name.clone(), loaded, fresh_epoch(), Instant::now().into_std());
        self.stats.shapes.store(u32::try_from(self.state.board().len()).unwrap_or(u32::MAX), Ordering::Relaxed);
        self.stats.changed.store(self.state.seq() > 0, Ordering::Relaxed);
        Ok(())
    }

    /// Reloads the room and closes every member's connection for a resync:
    /// their welcome then shows exactly what was recorded, and `last_op` tells
    /// each author which of its changes to send again.
    pub(super) async fn reload_and_resync(&mut self) -> Result<(), StoreError> {
        self.reload().await?;
        let everyone: Vec<ConnId> = self.members.keys().copied().collect();
        self.drop_members(everyone);
        Ok(())
    }

    /// Leaves the registry, then answers whatever is still queued so nobody
    /// waits on a room that is gone. Joins that slipped in get no answer: their
    /// connection sees the reply dropped and asks the registry again, which
    /// starts a fresh actor.
    pub(super) async fn retire(&mut self, rx: &mut mpsc::Receiver<RoomCmd>, reason: Option<JoinError>) {
        // Released first: once the registry forgets this room, the server may stop.
        self.release_lease().await;
        if let Some(retire) = self.retire.take() {
            retire();
        }
        // The lobby reads a retired room's line: leave it up to date.
        if let Some((seq, shapes)) = self.state.stale_row() {
            match self.shared.store.refresh_row(&self.name, seq, shapes).await {
                Ok(()) => self.state.row_refreshed(Instant::now().into_std()),
                Err(e) => tracing::warn!(room = %self.name, error = %e, "could not bring the room's row up to date"),
            }
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

    /// Notes, now and then, that a room staying loaded is still open.
    pub(super) fn note_opened(&mut self) {
        if self.opened_noted.elapsed() < NOTE_OPENED_EVERY {
            return;
        }
        self.opened_noted = Instant::now();
        let (store, room) = (self.shared.store.clone(), self.name.clone());
        tokio::spawn(async move {
            if let Err(e) = store.opened(&room, now_ms()).await {
                tracing::warn!(%room, error = %e, "could not note that the room is open");
            }
        });
    }
}

/// A new room's incarnation: 53 random bits (exact in JavaScript), never 0
/// (rooms older than epochs).
pub(super) fn fresh_epoch() -> u64 {
    rand::random::<u64>() >> 11 | 1
}

/// How many changes a command brings (a batch counts as its changes).
fn weight(cmd: &RoomCmd) -> usize {
    match cmd {
        RoomCmd::Change { change, .. } => change.parts().len(),
        _ => 1,
    }
}
