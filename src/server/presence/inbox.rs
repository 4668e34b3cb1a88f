//! One tab's side of presence: its `Inbox` (what it has yet to be told, the
//! latest of each kind only) and its `Outgoing` (what it said, passed on at
//! most `PUBLISH_EVERY` apart).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::server::frame::Frame;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{PUBLISH_EVERY, RoomPresence, State};
use sketchboard_core::model::ShapeId;
use sketchboard_core::presence::{DisplayName, Point};
use sketchboard_core::protocol::ServerMsg;

/// What one tab has yet to be told: the latest message per person and per
/// tab and kind.
#[derive(Default)]
pub(crate) struct Inbox {
    slots: Mutex<Slots>,
    ready: Notify,
}

#[derive(Default)]
struct Slots {
    you: Option<Frame>,
    people: BTreeMap<u32, Frame>,
    tabs: BTreeMap<u64, TabSlot>,
}

#[derive(Default)]
struct TabSlot {
    pointer: Option<Frame>,
    selection: Option<Frame>,
    left: Option<Frame>,
}

impl Inbox {
    fn slots(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new tab's first fill: who it is, then everyone present, here and on other nodes.
    pub(super) fn welcome(&self, you: Option<Frame>, state: &State) {
        let mut slots = self.slots();
        slots.you = you;
        for p in state.people.values() {
            slots.people.insert(p.id, p.said.clone());
        }
        for (id, said) in state.remote.people() {
            slots.people.entry(id).or_insert_with(|| said.clone());
        }
        let local = state.tabs.iter().map(|(id, t)| (*id, &t.pointer, &t.selection));
        for (id, pointer, selection) in local.chain(state.remote.tabs()) {
            let slot = slots.tabs.entry(id).or_default();
            slot.pointer.clone_from(pointer);
            slot.selection.clone_from(selection);
        }
        drop(slots);
        self.ready.notify_one();
    }

    pub(super) fn person(&self, id: u32, msg: Frame) {
        self.slots().people.insert(id, msg);
        self.ready.notify_one();
    }

    pub(super) fn tab(&self, tab: u64, is_pointer: bool, msg: Frame) {
        let mut slots = self.slots();
        let slot = slots.tabs.entry(tab).or_default();
        *(if is_pointer { &mut slot.pointer } else { &mut slot.selection }) = Some(msg);
        drop(slots);
        self.ready.notify_one();
    }

    pub(super) fn tab_left(&self, tab: u64, msg: Frame) {
        // What it said before it left no longer matters.
        self.slots().tabs.insert(tab, TabSlot { left: Some(msg), ..TabSlot::default() });
        self.ready.notify_one();
    }

    /// Waits until there is something to take.
    pub(crate) async fn ready(&self) {
        self.ready.notified().await;
    }

    /// Everything waiting, in the order that reads right: who you are, who is
    /// here, then what each tab does.
    pub(crate) fn take(&self, into: &mut Vec<Frame>) {
        let Slots { you, people, tabs } = std::mem::take(&mut *self.slots());
        into.extend(you);
        into.extend(people.into_values());
        for slot in tabs.into_values() {
            into.extend(slot.left.into_iter().chain(slot.pointer).chain(slot.selection));
        }
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
            self.room_presence.rename(self.tab, &name);
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
        self.room_presence.leave(self.tab);
    }
}
