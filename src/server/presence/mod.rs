//! A room's presence (see `sketchboard_core::presence`): who is here, and each
//! tab's pointer and selection, passed from tab to tab without the room
//! actor, its feed or storage, so it can never delay, reorder or be recorded
//! with a change.
//!
//! - `state`: the presence as data, without I/O; every change tells the tabs'
//!   inboxes and returns what to say to the other nodes;
//! - `inbox`: each tab's `Inbox`, which keeps only the latest message of each
//!   kind per person and per tab: a reader that falls behind gets the present,
//!   not a backlog. Its connection drains it only when the room's feed has
//!   nothing for it (changes first);
//! - here: `RoomPresence`, the state behind a lock with the way to the other
//!   nodes, and `Outgoing`, a tab's side, which holds what the tab said and
//!   passes it on at most `PUBLISH_EVERY` apart, whatever the tab sends;
//! - with several nodes, `across_nodes` passes a room's presence between the
//!   nodes that have it loaded (`said`: what they say; `remote`: what the
//!   others have), and person numbers come from Redis so that a person has
//!   one number (and colour) everywhere.

mod across_nodes;
mod inbox;
mod remote;
mod said;
mod state;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::server::peers;
use across_nodes::Relay;
pub(super) use inbox::Inbox;
use said::Said;
use sketchboard_core::model::{ClientId, RoomName, ShapeId};
use sketchboard_core::presence::{DisplayName, Point};
use sketchboard_core::protocol::ServerMsg;
use state::State;

/// The least time between two updates one tab passes on to the others. Tabs
/// send at most 30 a second; this leaves room for network jitter and no more.
const PUBLISH_EVERY: Duration = Duration::from_millis(25);

/// The presence of one running room.
pub(crate) struct RoomPresence {
    state: Mutex<State>,
    /// With several nodes: the way to the other nodes that have the room.
    relay: Option<Relay>,
}

impl Default for RoomPresence {
    /// Alone: one node has the room.
    fn default() -> RoomPresence {
        RoomPresence { state: Mutex::new(State::new(None)), relay: None }
    }
}

impl RoomPresence {
    fn state(&self) -> MutexGuard<'_, State> {
        // Every update leaves the maps consistent; a panic elsewhere does not make them unusable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Changes the state, and passes what it says on to the other nodes.
    fn change<T>(&self, f: impl FnOnce(&mut State, &mut Vec<Said>) -> T) -> T {
        let mut said = Vec::new();
        let out = f(&mut self.state(), &mut said);
        if let Some(relay) = &self.relay {
            for s in said {
                relay.send(s);
            }
        }
        out
    }

    /// The presence of `room`: with other nodes, shared with those that have it loaded.
    pub(crate) fn for_room(peers: &peers::Shared, room: RoomName) -> Arc<RoomPresence> {
        if peers.alone() {
            return Arc::new(RoomPresence::default());
        }
        let tag = (rand::random::<u64>() & 0x1f_ffff) | 1;
        Arc::new_cyclic(|me: &std::sync::Weak<RoomPresence>| {
            let me = me.clone();
            let beat = move || {
                let Some(room_presence) = me.upgrade() else { return false };
                room_presence.change(|state, said| state.beat(Instant::now(), said));
                true
            };
            RoomPresence { state: Mutex::new(State::new(Some(tag))), relay: Some(Relay::start(peers, room, beat)) }
        })
    }

    /// A tab arrives: it is told who it is and everything present, and the
    /// others are told of its person if they are new. It stays until its
    /// `Outgoing` is dropped. `number` is the person's number in the room
    /// when one is given (several nodes: the same on every node).
    pub(crate) fn enter(
        self: &Arc<Self>,
        tab: u64,
        person: ClientId,
        viewer: bool,
        number: Option<u32>,
    ) -> (Arc<Inbox>, Outgoing) {
        let inbox = self.change(|state, said| state.enter(tab, person, viewer, number, said));
        (inbox, Outgoing::new(self.clone(), tab))
    }

    /// How many people are here (a person with several tabs is one).
    pub(crate) fn people(&self) -> usize {
        self.state().people.len()
    }

    /// The person number of tab `tab`, while it is here.
    pub(crate) fn person_of(&self, tab: u64) -> Option<u32> {
        self.state().person_of(tab)
    }

    /// This node now hears the others: they are asked to say everything.
    pub(crate) fn listening(&self) {
        if let Some(relay) = &self.relay {
            relay.send(Said::Roll);
        }
    }

    /// Another node said something on the room's channel.
    pub(crate) fn heard(&self, text: &str) {
        let Some((node, what)) = self.relay.as_ref().and_then(|r| r.read(text)) else { return };
        self.change(|state, said| state.heard(node, what, Instant::now(), said));
    }

    fn tab_update(&self, tab: u64, update: impl Fn(u64, u32) -> ServerMsg) {
        self.change(|state, said| state.tab_update(tab, update, said));
    }
}

/// One tab's presence on its way out: what it said, held until it may be
/// passed on (at most one update per `PUBLISH_EVERY`, the latest of each kind).
pub(crate) struct Outgoing {
    room_presence: Arc<RoomPresence>,
    pub(super) tab: u64,
    name: Option<DisplayName>,
    pointer: Option<Option<Point>>,
    selection: Option<Vec<ShapeId>>,
    last: Option<Instant>,
    /// Nothing goes out before then (the tab's address sent more than it may).
    held_until: Option<Instant>,
}

impl Outgoing {
    pub(super) fn new(room_presence: Arc<RoomPresence>, tab: u64) -> Outgoing {
        Outgoing { room_presence, tab, name: None, pointer: None, selection: None, last: None, held_until: None }
    }

    /// Holds what this tab says until `until` (then the latest of each goes out).
    pub(crate) fn hold_until(&mut self, until: Instant) {
        self.held_until = self.held_until.max(Some(until));
    }

    pub(crate) fn name(&mut self, name: DisplayName) {
        self.name = Some(name);
    }

    pub(crate) fn pointer(&mut self, at: Option<Point>) {
        self.pointer = Some(at);
    }

    pub(crate) fn selection(&mut self, ids: Vec<ShapeId>) {
        self.selection = Some(ids);
    }

    /// When what is held may go out: None if nothing is held.
    pub(crate) fn due(&self) -> Option<Instant> {
        let holding = self.name.is_some() || self.pointer.is_some() || self.selection.is_some();
        let due = self.last.map_or_else(Instant::now, |last| last + PUBLISH_EVERY);
        holding.then(|| self.held_until.map_or(due, |held| held.max(due)))
    }

    /// Passes on what is held, if it is due.
    pub(crate) fn publish(&mut self) {
        if self.due().is_none_or(|due| due > Instant::now()) {
            return;
        }
        self.last = Some(Instant::now());
        if let Some(name) = self.name.take() {
            self.room_presence.change(|state, said| state.rename(self.tab, &name, said));
        }
        if let Some(at) = self.pointer.take() {
            self.room_presence.tab_update(self.tab, |tab, person| ServerMsg::Pointer { tab, person, at });
        }
        if let Some(ids) = self.selection.take() {
            self.room_presence.tab_update(self.tab, |tab, person| ServerMsg::Selection {
                tab,
                person,
                ids: ids.clone(),
            });
        }
    }
}

/// The tab's connection ended: it leaves, however it ended.
impl Drop for Outgoing {
    fn drop(&mut self) {
        self.room_presence.change(|state, said| state.leave(self.tab, said));
    }
}

#[cfg(test)]
mod tests;
