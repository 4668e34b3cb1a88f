//! Which rooms are running: a map from room name to its actor's mailbox.
//!
//! Only joining and retiring touch the map; a connection keeps its room's
//! mailbox for its whole life, so the hot path (every change) never takes the
//! registry's lock.
//!
//! When every slot (`--max-rooms`) is taken, a room nobody ever changed gives
//! way to a new one: the one opened by the address that holds the most
//! loaded rooms, and only if that address would still hold more than the
//! newcomer's (so a flood of empty rooms cannot keep an honest newcomer out,
//! and floods only push each other around). A room that holds work never gives way.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, oneshot, watch};

use super::fairness::{Fairness, Network};
use super::frame::Frame;
use super::metrics::Metrics;
use super::peers;
use super::presence::RoomPresence;
use super::room::{ConnId, Cursor, JoinError, Room, RoomCmd, RoomLimits, RoomStats, Shared};
use super::storage::{Owner, Store};
use sketchboard_core::model::{ClientId, RoomName};
use sketchboard_core::protocol::Position;

/// A connection that joined its room.
pub(crate) struct Joined {
    /// The room's mailbox.
    pub room: mpsc::Sender<RoomCmd>,
    pub member: ConnId,
    /// Where it reads what the room sends everyone.
    pub cursor: Cursor,
    /// The room's presence.
    pub room_presence: Arc<RoomPresence>,
    /// Changes when the room's view-only link is replaced: a viewer's cue to leave.
    pub revoked: watch::Receiver<u64>,
}

/// Commands a room's mailbox holds before senders wait.
const ROOM_MAILBOX: usize = 1024;

#[derive(Clone)]
struct RoomHandle {
    tx: mpsc::Sender<RoomCmd>,
    /// The address that loaded it (for which room gives way when the server is full).
    opener: Network,
    /// Tells this actor apart from an earlier or later one of the same room.
    generation: u64,
    stats: Arc<RoomStats>,
    room_presence: Arc<RoomPresence>,
    revoked: watch::Sender<u64>,
}

#[derive(Clone)]
pub(crate) struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    rooms: Mutex<HashMap<RoomName, RoomHandle>>,
    /// How many rooms are loaded, for whoever wants to wait on it (tests, metrics).
    loaded: watch::Sender<usize>,
    store: Store,
    peers: peers::Shared,
    fairness: Arc<Fairness>,
    metrics: Arc<Metrics>,
    limits: RoomLimits,
    next_generation: AtomicU64,
    next_member: AtomicU64,
}

impl Registry {
    pub(crate) fn new(
        store: Store,
        peers: peers::Shared,
        fairness: Arc<Fairness>,
        metrics: Arc<Metrics>,
        limits: RoomLimits,
    ) -> Registry {
        Registry {
            inner: Arc::new(Inner {
                rooms: Mutex::new(HashMap::new()),
                loaded: watch::Sender::new(0),
                store,
                peers,
                fairness,
                metrics,
                limits,
                next_generation: AtomicU64::new(1),
                next_member: AtomicU64::new(1),
            }),
        }
    }

    fn rooms(&self) -> MutexGuard<'_, HashMap<RoomName, RoomHandle>> {
        // The map is always left consistent (single inserts and removes), so a
        // panic elsewhere while it was held does not make it unusable.
        self.inner.rooms.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The running actor for `name`, started (and loaded from storage) if
    /// needed and if the server has room for one more.
    fn handle(&self, name: &RoomName, network: Network) -> Result<RoomHandle, JoinError> {
        let mut rooms = self.rooms();
        if let Some(h) = rooms.get(name).filter(|h| !h.tx.is_closed()) {
            return Ok(h.clone());
        }
        let max_rooms = self.inner.limits.max_rooms;
        if rooms.len() >= max_rooms {
            // A closed handle is a room that has stopped taking commands (it
            // is retiring, or its task ended): it no longer holds a place.
            rooms.retain(|_, h| !h.tx.is_closed());
            self.set_loaded(rooms.len());
        }
        if rooms.len() >= max_rooms && !rooms.contains_key(name) {
            let Some(victim) = giving_way(&rooms, network) else { return Err(JoinError::Busy(max_rooms)) };
            if let Some(h) = rooms.remove(&victim) {
                // A full mailbox is a room at work: it still goes, when it reads this.
                let tx = h.tx.clone();
                tokio::spawn(async move { drop(tx.send(RoomCmd::GiveWay).await) });
            }
            self.set_loaded(rooms.len());
        }
        self.inner.fairness.open_room(network).map_err(JoinError::Unfair)?;
        let generation = self.inner.next_generation.fetch_add(1, Ordering::Relaxed);
        let stats = Arc::new(RoomStats::default());
        let (tx, rx) = mpsc::channel(ROOM_MAILBOX);
        let retire = {
            // Weak: a retiring room must not keep the registry alive.
            let (registry, name) = (Arc::downgrade(&self.inner), name.clone());
            Box::new(move || {
                if let Some(inner) = registry.upgrade() {
                    Registry { inner }.forget(&name, generation);
                }
            })
        };
        let room_presence = RoomPresence::for_room(&self.inner.peers, name.clone());
        let shared = Shared {
            store: self.inner.store.clone(),
            peers: self.inner.peers.clone(),
            fairness: self.inner.fairness.clone(),
            metrics: self.inner.metrics.clone(),
            room_presence: room_presence.clone(),
        };
        let revoked = watch::Sender::new(0);
        let room = Room::new(name.clone(), shared, stats.clone(), self.inner.limits, retire)
            .with_mailbox(&tx, revoked.clone());
        tokio::spawn(room.run(rx));
        let handle = RoomHandle { tx, opener: network, generation, stats, room_presence, revoked };
        rooms.insert(name.clone(), handle.clone());
        self.set_loaded(rooms.len());
        Ok(handle)
    }

    /// Joins a room: returns the room's mailbox and this member's id. The room
    /// answers the hello (a welcome snapshot, or the changes after `at`),
    /// then sends the stream, into `out`.
    pub(crate) async fn join(
        &self,
        name: &RoomName,
        client: ClientId,
        network: Network,
        at: Option<Position>,
        viewer: bool,
        out: mpsc::Sender<Frame>,
    ) -> Result<Joined, JoinError> {
        let member = ConnId(self.inner.next_member.fetch_add(1, Ordering::Relaxed));
        let join =
            |reply| RoomCmd::Join { member, client: client.clone(), network, at, viewer, out: out.clone(), reply };
        let (cursor, handle) = self.ask(name, network, join).await?;
        let revoked = handle.revoked.subscribe();
        Ok(Joined { room: handle.tx, member, cursor, room_presence: handle.room_presence, revoked })
    }

    /// Sends room `name` (started if need be) the command `cmd` makes, and
    /// waits for its answer. A room retiring at this very moment drops the
    /// command unanswered; the second try then finds it gone and starts a new
    /// one. Three is ample.
    async fn ask<T>(
        &self,
        name: &RoomName,
        network: Network,
        cmd: impl Fn(oneshot::Sender<Result<T, JoinError>>) -> RoomCmd,
    ) -> Result<(T, RoomHandle), JoinError> {
        for _ in 0..3 {
            let handle = self.handle(name, network)?;
            let (reply, answer) = oneshot::channel();
            if handle.tx.send(cmd(reply)).await.is_err() {
                continue;
            }
            if let Ok(answer) = answer.await {
                return answer.map(|t| (t, handle));
            }
        }
        Err(JoinError::KeptClosing)
    }

    /// Called when a room retires: removes it, unless a newer actor already
    /// took its place.
    fn forget(&self, name: &RoomName, generation: u64) {
        let mut rooms = self.rooms();
        if rooms.get(name).is_some_and(|h| h.generation == generation) {
            rooms.remove(name);
            self.set_loaded(rooms.len());
        }
    }

    /// People and shapes in each running room that is not private, for the lobby.
    pub(crate) fn live_rooms(&self) -> HashMap<RoomName, (u32, u32)> {
        let live = |s: &RoomStats| (s.members.load(Ordering::Relaxed), s.shapes.load(Ordering::Relaxed));
        let listed = |h: &&RoomHandle| !h.stats.private.load(Ordering::Relaxed);
        self.rooms().iter().filter(|(_, h)| listed(h)).map(|(name, h)| (name.clone(), live(&h.stats))).collect()
    }

    /// Whether view-only `token` still opens `room` (no, too, if storage cannot say).
    pub(crate) async fn token_opens(&self, token: &str, room: &RoomName) -> bool {
        matches!(self.inner.store.room_for_token(token).await, Ok(Some(r)) if &r == room)
    }

    /// With other nodes, `person`'s number in `room` on every node; `None`
    /// alone (the room's presence numbers people itself).
    pub(crate) async fn person_number(&self, room: &RoomName, person: &ClientId) -> Option<u32> {
        match self.inner.peers.person_number(room, person).await {
            Ok(number) => number,
            Err(e) => {
                // Far from the numbers the nodes give, so it cannot take another person's.
                tracing::warn!(%room, error = %e, "could not number a person across nodes; numbering them here");
                Some(u32::MAX - rand::random::<u16>() as u32)
            }
        }
    }

    /// How many people are in room `name` now (0 when it is not running).
    pub(crate) fn people(&self, name: &RoomName) -> usize {
        self.rooms().get(name).map_or(0, |h| h.room_presence.people())
    }

    /// Tells the viewers of `name`, if it is running, that their link was replaced.
    pub(crate) fn revoke_viewers(&self, name: &RoomName) {
        if let Some(h) = self.rooms().get(name) {
            h.revoked.send_modify(|n| *n += 1);
        }
    }

    fn set_loaded(&self, n: usize) {
        self.inner.loaded.send_replace(n);
        self.inner.metrics.rooms_loaded.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// The names of the rooms loaded now.
    /// Stops every room (`RoomCmd::Stop`) and waits, up to `limit`, until all
    /// have retired: their leases released, so other nodes take them at once.
    pub(crate) async fn stop_all(&self, limit: std::time::Duration) -> bool {
        let handles: Vec<RoomHandle> = self.rooms().values().cloned().collect();
        let mut loaded = self.loaded();
        let stopped = async move {
            for h in handles {
                // A room whose mailbox is closed is retiring already.
                let _ = h.tx.send(RoomCmd::Stop).await;
            }
            loaded.wait_for(|n| *n == 0).await.is_ok()
        };
        tokio::time::timeout(limit, stopped).await.unwrap_or(false)
    }

    /// Claims `room` for this node (its actor started if need be: a writer
    /// from `network` is about to join it): `None` if it is this node's now,
    /// or the node that owns it.
    pub(crate) async fn own(&self, room: &RoomName, network: Network) -> Result<Option<Owner>, JoinError> {
        self.ask(room, network, |reply| RoomCmd::Own { reply }).await.map(|(owner, _)| owner)
    }

    /// Whether `room` is loaded here and this node holds its lease.
    pub(crate) fn owns(&self, room: &RoomName) -> bool {
        self.rooms().get(room).is_some_and(|h| h.stats.owned.load(std::sync::atomic::Ordering::Relaxed))
    }

    pub(crate) fn loaded_rooms(&self) -> Vec<RoomName> {
        self.rooms().keys().cloned().collect()
    }

    /// How many rooms are loaded, now and as it changes.
    pub(crate) fn loaded(&self) -> watch::Receiver<usize> {
        self.inner.loaded.subscribe()
    }
}

/// The room that gives its place to one `newcomer` opens, when every place is
/// taken: never changed, opened by the address holding the most rooms (the
/// oldest of its rooms), and only if that address holds more rooms than the
/// newcomer's would with the new one.
fn giving_way(rooms: &HashMap<RoomName, RoomHandle>, newcomer: Network) -> Option<RoomName> {
    let mut held: HashMap<Network, usize> = HashMap::new();
    for h in rooms.values() {
        *held.entry(h.opener).or_default() += 1;
    }
    let newcomers = held.get(&newcomer).copied().unwrap_or(0) + 1;
    rooms
        .iter()
        .filter(|(_, h)| !h.stats.changed.load(Ordering::Relaxed))
        .map(|(name, h)| (held.get(&h.opener).copied().unwrap_or(0), std::cmp::Reverse(h.generation), name))
        .filter(|(holds, ..)| *holds > newcomers)
        .max()
        .map(|(.., name)| name.clone())
}
