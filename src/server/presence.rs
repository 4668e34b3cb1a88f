//! A room's presence (see `sketchboard_core::presence`): who is here, and each
//! tab's pointer and selection, passed from tab to tab without the room
//! actor, its feed or storage, so it can never delay, reorder or be recorded
//! with a change.
//!
//! Every tab has an `Inbox` that keeps only the latest message of each kind
//! per person and per tab: a reader that falls behind gets the present, not
//! a backlog, and never holds more than a few slots per tab in the room. Its
//! connection drains the inbox only when the room's feed has nothing for it
//! (changes first). `Outgoing` is the sender's side: it holds what a tab said
//! and passes it on at most `PUBLISH_EVERY` apart, whatever the tab sends.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::model::{ClientId, ShapeId};
use crate::presence::{DisplayName, PERSON_COLORS, Point};
use crate::protocol::ServerMsg;

/// The least time between two updates one tab passes on to the others. Tabs
/// send at most 30 a second; this leaves room for network jitter and no more.
pub const PUBLISH_EVERY: Duration = Duration::from_millis(25);

/// The presence of one running room.
#[derive(Default)]
pub struct Lounge {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// By private person id: never shown; others know a person by `Person::id`.
    people: HashMap<ClientId, Person>,
    tabs: HashMap<u64, Tab>,
    next_person: u32,
}

struct Person {
    id: u32,
    color: u8,
    /// Came (with their first tab here) by a view-only link.
    viewer: bool,
    /// Their `person` message, as last sent.
    said: Utf8Bytes,
    tabs: usize,
}

struct Tab {
    person: ClientId,
    inbox: Arc<Inbox>,
    /// The latest of each, for tabs that arrive later.
    pointer: Option<Utf8Bytes>,
    selection: Option<Utf8Bytes>,
}

impl State {
    fn person_of(&self, tab: u64) -> Option<u32> {
        self.tabs.get(&tab).and_then(|t| self.people.get(&t.person)).map(|p| p.id)
    }
}

fn encode(msg: &ServerMsg) -> Utf8Bytes {
    Utf8Bytes::from(msg.to_json())
}

impl Lounge {
    fn state(&self) -> MutexGuard<'_, State> {
        // Every update leaves the maps consistent; a panic elsewhere does not make them unusable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A tab arrives: it is told who it is and everything present, and the
    /// others are told of its person if they are new. It stays until its
    /// `Outgoing` is dropped.
    pub fn enter(self: &Arc<Self>, tab: u64, person: ClientId, viewer: bool) -> (Arc<Inbox>, Outgoing) {
        let mut state = self.state();
        let inbox = Arc::new(Inbox::default());
        if !state.people.contains_key(&person) {
            let id = state.next_person;
            state.next_person += 1;
            let color = free_color(state.people.values().map(|p| p.color), id);
            let said = encode(&ServerMsg::Person { id, name: String::new(), color, viewer });
            for other in state.tabs.values() {
                other.inbox.person(id, said.clone());
            }
            state.people.insert(person.clone(), Person { id, color, viewer, said, tabs: 0 });
        }
        let you = state.people.get_mut(&person).map(|p| {
            p.tabs += 1;
            p.id
        });
        {
            let mut slots = inbox.slots();
            slots.you = you.map(|person| encode(&ServerMsg::You { person }));
            for p in state.people.values() {
                slots.people.insert(p.id, p.said.clone());
            }
            for (id, t) in &state.tabs {
                let slot = slots.tabs.entry(*id).or_default();
                slot.pointer.clone_from(&t.pointer);
                slot.selection.clone_from(&t.selection);
            }
        }
        inbox.ready.notify_one();
        state.tabs.insert(tab, Tab { person, inbox: inbox.clone(), pointer: None, selection: None });
        let outgoing = Outgoing { lounge: self.clone(), tab, name: None, pointer: None, selection: None, last: None };
        (inbox, outgoing)
    }

    /// How many people are here (a person with several tabs is one).
    pub fn people(&self) -> usize {
        self.state().people.len()
    }

    /// The person number of tab `tab`, while it is here.
    pub fn person_of(&self, tab: u64) -> Option<u32> {
        self.state().person_of(tab)
    }

    /// A tab is gone: its pointer and selection go at once, and its person
    /// with its last tab.
    fn leave(&self, tab: u64) {
        let mut state = self.state();
        let Some(gone) = state.tabs.remove(&tab) else { return };
        let left = encode(&ServerMsg::TabLeft { tab });
        for other in state.tabs.values() {
            other.inbox.tab_left(tab, left.clone());
        }
        let Some(person) = state.people.get_mut(&gone.person) else { return };
        person.tabs -= 1;
        if person.tabs == 0 {
            let id = person.id;
            state.people.remove(&gone.person);
            let left = encode(&ServerMsg::PersonLeft { id });
            for other in state.tabs.values() {
                other.inbox.person(id, left.clone());
            }
        }
    }

    /// A tab's person says their name: every tab, the person's own included, hears it.
    fn rename(&self, tab: u64, name: &DisplayName) {
        let mut state = self.state();
        let Some(key) = state.tabs.get(&tab).map(|t| t.person.clone()) else { return };
        let Some(person) = state.people.get_mut(&key) else { return };
        let (id, color, viewer) = (person.id, person.color, person.viewer);
        person.said = encode(&ServerMsg::Person { id, name: name.to_string(), color, viewer });
        let said = person.said.clone();
        for other in state.tabs.values() {
            other.inbox.person(id, said.clone());
        }
    }

    /// A tab's pointer or selection: every other tab hears it.
    fn tab_update(&self, tab: u64, update: impl FnOnce(u64, u32) -> ServerMsg) {
        let mut state = self.state();
        let Some(person) = state.person_of(tab) else { return };
        let msg = update(tab, person);
        let is_pointer = matches!(msg, ServerMsg::Pointer { .. });
        let said = encode(&msg);
        for (id, other) in &state.tabs {
            if *id != tab {
                other.inbox.tab(tab, is_pointer, said.clone());
            }
        }
        if let Some(t) = state.tabs.get_mut(&tab) {
            *(if is_pointer { &mut t.pointer } else { &mut t.selection }) = Some(said);
        }
    }
}

/// The first colour no one here has; with every colour taken, one by turn.
fn free_color(taken: impl Iterator<Item = u8>, id: u32) -> u8 {
    let mut used = [false; PERSON_COLORS as usize];
    for c in taken {
        if let Some(u) = used.get_mut(usize::from(c)) {
            *u = true;
        }
    }
    used.iter().position(|u| !u).map_or((id % u32::from(PERSON_COLORS)) as u8, |c| c as u8)
}

/// What one tab has yet to be told: the latest message per person and per
/// tab and kind.
#[derive(Default)]
pub struct Inbox {
    slots: Mutex<Slots>,
    ready: Notify,
}

#[derive(Default)]
struct Slots {
    you: Option<Utf8Bytes>,
    people: BTreeMap<u32, Utf8Bytes>,
    tabs: BTreeMap<u64, TabSlot>,
}

#[derive(Default)]
struct TabSlot {
    pointer: Option<Utf8Bytes>,
    selection: Option<Utf8Bytes>,
    left: Option<Utf8Bytes>,
}

impl Inbox {
    fn slots(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn person(&self, id: u32, msg: Utf8Bytes) {
        self.slots().people.insert(id, msg);
        self.ready.notify_one();
    }

    fn tab(&self, tab: u64, is_pointer: bool, msg: Utf8Bytes) {
        let mut slots = self.slots();
        let slot = slots.tabs.entry(tab).or_default();
        *(if is_pointer { &mut slot.pointer } else { &mut slot.selection }) = Some(msg);
        drop(slots);
        self.ready.notify_one();
    }

    fn tab_left(&self, tab: u64, msg: Utf8Bytes) {
        // What it said before it left no longer matters.
        self.slots().tabs.insert(tab, TabSlot { left: Some(msg), ..TabSlot::default() });
        self.ready.notify_one();
    }

    /// Waits until there is something to take.
    pub async fn ready(&self) {
        self.ready.notified().await;
    }

    /// Everything waiting, in the order that reads right: who you are, who is
    /// here, then what each tab does.
    pub fn take(&self, into: &mut Vec<Utf8Bytes>) {
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
pub struct Outgoing {
    lounge: Arc<Lounge>,
    tab: u64,
    name: Option<DisplayName>,
    pointer: Option<Option<Point>>,
    selection: Option<Vec<ShapeId>>,
    last: Option<Instant>,
}

impl Outgoing {
    pub fn name(&mut self, name: DisplayName) {
        self.name = Some(name);
    }

    pub fn pointer(&mut self, at: Option<Point>) {
        self.pointer = Some(at);
    }

    pub fn selection(&mut self, ids: Vec<ShapeId>) {
        self.selection = Some(ids);
    }

    /// When what is held may go out: None if nothing is held.
    pub fn due(&self) -> Option<Instant> {
        let holding = self.name.is_some() || self.pointer.is_some() || self.selection.is_some();
        holding.then(|| self.last.map_or_else(Instant::now, |last| last + PUBLISH_EVERY))
    }

    /// Passes on what is held, if it is due.
    pub fn publish(&mut self) {
        if self.due().is_none_or(|due| due > Instant::now()) {
            return;
        }
        self.last = Some(Instant::now());
        if let Some(name) = self.name.take() {
            self.lounge.rename(self.tab, &name);
        }
        if let Some(at) = self.pointer.take() {
            self.lounge.tab_update(self.tab, |tab, person| ServerMsg::Pointer { tab, person, at });
        }
        if let Some(ids) = self.selection.take() {
            self.lounge.tab_update(self.tab, |tab, person| ServerMsg::Selection { tab, person, ids });
        }
    }
}

/// The tab's connection ended: it leaves, however it ended.
impl Drop for Outgoing {
    fn drop(&mut self) {
        self.lounge.leave(self.tab);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn person(s: &str) -> ClientId {
        ClientId::parse(s).unwrap()
    }

    fn taken(inbox: &Inbox) -> Vec<String> {
        let mut out = Vec::new();
        inbox.take(&mut out);
        out.iter().map(|m| m.as_str().to_owned()).collect()
    }

    #[test]
    fn a_reader_that_falls_behind_keeps_only_the_latest() {
        let lounge = Arc::new(Lounge::default());
        let (slow, _slow_out) = lounge.enter(1, person("slow"), false);
        let (_, busy) = lounge.enter(2, person("busy"), false);
        taken(&slow);
        for i in 0..1000 {
            let at = Some([f64::from(i), 1.0]);
            lounge.tab_update(busy.tab, |tab, person| ServerMsg::Pointer { tab, person, at });
        }
        let ids = vec![ShapeId::parse("a").unwrap()];
        lounge.tab_update(busy.tab, |tab, person| ServerMsg::Selection { tab, person, ids });
        let waiting = taken(&slow);
        assert_eq!(waiting.len(), 2, "one pointer and one selection: {waiting:?}");
        assert!(waiting[0].contains("[999.0,1.0]"), "the latest: {waiting:?}");
        drop(busy);
        let waiting = taken(&slow);
        assert!(waiting.iter().any(|m| m.contains("tab_left")) && waiting.iter().any(|m| m.contains("person_left")));
    }

    #[test]
    fn colours_are_distinct_while_there_are_enough() {
        let lounge = Arc::new(Lounge::default());
        let mut tabs: Vec<_> =
            (0..u64::from(PERSON_COLORS) + 1).map(|i| lounge.enter(i, person(&format!("p{i}")), false)).collect();
        let colors: Vec<u8> = lounge.state().people.values().map(|p| p.color).collect();
        let mut distinct = colors.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), usize::from(PERSON_COLORS), "{colors:?}");
        // A colour freed is the next one given.
        let freed = lounge.state().people[&person("p3")].color;
        drop(tabs.remove(3));
        let _again = lounge.enter(99, person("late"), false);
        assert_eq!(lounge.state().people[&person("late")].color, freed);
    }
}
