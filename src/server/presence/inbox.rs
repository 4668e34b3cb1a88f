//! One tab's `Inbox`: what it has yet to be told of the others' presence,
//! the latest of each kind only, so a tab that reads slowly gets the present,
//! not a backlog.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::server::frame::Frame;

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

    /// A new tab's first fill: who it is, then everyone present (the first
    /// word on each person counts: this node's before the others'), then what
    /// each tab last said.
    pub(super) fn welcome<'a>(
        &self,
        you: Option<Frame>,
        people: impl Iterator<Item = (u32, &'a Frame)>,
        tabs: impl Iterator<Item = (u64, &'a Option<Frame>, &'a Option<Frame>)>,
    ) {
        let mut slots = self.slots();
        slots.you = you;
        for (id, said) in people {
            slots.people.entry(id).or_insert_with(|| said.clone());
        }
        for (id, pointer, selection) in tabs {
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
