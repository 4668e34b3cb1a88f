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
//!
//! With several nodes, `across_nodes` passes a room's presence between the nodes
//! that have it loaded (Redis Pub/Sub, never stored), and person numbers
//! come from Redis so that a person has one number (and colour) everywhere.

mod across_nodes;
mod inbox;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::server::frame::Frame;

use crate::server::peers;
use across_nodes::{Relay, Remote, Said};
pub(super) use inbox::{Inbox, Outgoing};
use sketchboard_core::model::{ClientId, RoomName};
use sketchboard_core::presence::{DisplayName, PERSON_COLORS};
use sketchboard_core::protocol::ServerMsg;

/// The least time between two updates one tab passes on to the others. Tabs
/// send at most 30 a second; this leaves room for network jitter and no more.
pub(super) const PUBLISH_EVERY: Duration = Duration::from_millis(25);

/// The presence of one running room.
#[derive(Default)]
pub(crate) struct RoomPresence {
    state: Mutex<State>,
    /// With several nodes: the way to the other nodes that have the room.
    relay: Option<Relay>,
}

#[derive(Default)]
struct State {
    /// By private person id: never shown; others know a person by `Person::id`.
    people: HashMap<ClientId, Person>,
    tabs: HashMap<u64, Tab>,
    next_person: u32,
    /// With several nodes: the people and tabs the other nodes have here.
    remote: Remote,
}

struct Person {
    id: u32,
    color: u8,
    /// Came (with their first tab here) by a view-only link.
    viewer: bool,
    /// Their `person` message, as last sent.
    said: Frame,
    tabs: usize,
}

struct Tab {
    person: ClientId,
    inbox: Arc<Inbox>,
    /// The latest of each, for tabs that arrive later.
    pointer: Option<Frame>,
    selection: Option<Frame>,
    /// With several nodes, the same as told to the others (with the tab's
    /// number among all nodes), for nodes that arrive later.
    relayed_pointer: Option<(u64, String)>,
    relayed_selection: Option<(u64, String)>,
}

impl State {
    fn person_of(&self, tab: u64) -> Option<u32> {
        self.tabs.get(&tab).and_then(|t| self.people.get(&t.person)).map(|p| p.id)
    }

    /// Whether person `id` has a tab on this node.
    fn here(&self, id: u32) -> bool {
        self.people.values().any(|p| p.id == id)
    }
}

fn encode(msg: &ServerMsg) -> Frame {
    Frame::from(msg.to_json())
}

impl RoomPresence {
    fn state(&self) -> MutexGuard<'_, State> {
        // Every update leaves the maps consistent; a panic elsewhere does not make them unusable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The presence of `room`: with other nodes, shared with those that have it loaded.
    pub(crate) fn for_room(peers: &peers::Shared, room: RoomName) -> Arc<RoomPresence> {
        if peers.alone() {
            return Arc::new(RoomPresence::default());
        }
        Arc::new_cyclic(|me| RoomPresence {
            state: Mutex::default(),
            relay: Some(Relay::start(peers, room, me.clone())),
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
        let mut state = self.state();
        let inbox = Arc::new(Inbox::default());
        if !state.people.contains_key(&person) {
            let (id, color) = match number {
                // Every node must give one person one colour, without asking the others.
                Some(id) => (id, (id % u32::from(PERSON_COLORS)) as u8),
                None => {
                    let id = state.next_person;
                    state.next_person += 1;
                    (id, free_color(state.people.values().map(|p| p.color), id))
                }
            };
            let said = encode(&ServerMsg::Person { id, name: String::new(), color, viewer });
            for other in state.tabs.values() {
                other.inbox.person(id, said.clone());
            }
            self.relay_out(Said::Person { id, said: said.to_string() });
            state.people.insert(person.clone(), Person { id, color, viewer, said, tabs: 0 });
        }
        let you = state.people.get_mut(&person).map(|p| {
            p.tabs += 1;
            p.id
        });
        inbox.welcome(you.map(|person| encode(&ServerMsg::You { person })), &state);
        let tab_state = Tab {
            person,
            inbox: inbox.clone(),
            pointer: None,
            selection: None,
            relayed_pointer: None,
            relayed_selection: None,
        };
        state.tabs.insert(tab, tab_state);
        let outgoing = Outgoing::new(self.clone(), tab);
        (inbox, outgoing)
    }

    /// How many people are here (a person with several tabs is one).
    pub(crate) fn people(&self) -> usize {
        self.state().people.len()
    }

    /// The person number of tab `tab`, while it is here.
    pub(crate) fn person_of(&self, tab: u64) -> Option<u32> {
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
        self.relay_out(Said::TabLeft { tab: self.global(tab) });
        let Some(person) = state.people.get_mut(&gone.person) else { return };
        person.tabs -= 1;
        if person.tabs == 0 {
            let id = person.id;
            state.people.remove(&gone.person);
            self.relay_out(Said::PersonLeft { id });
            // The same person may still be here through another node.
            if !state.remote.has_person(id) {
                let left = encode(&ServerMsg::PersonLeft { id });
                for other in state.tabs.values() {
                    other.inbox.person(id, left.clone());
                }
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
        self.relay_out(Said::Person { id, said: said.to_string() });
    }

    /// A tab's pointer or selection: every other tab hears it (on other
    /// nodes too, by the tab's number among all nodes).
    fn tab_update(&self, tab: u64, update: impl Fn(u64, u32) -> ServerMsg) {
        let mut state = self.state();
        let Some(person) = state.person_of(tab) else { return };
        if self.relay.is_some() {
            let global = self.global(tab);
            let msg = update(global, person);
            let pointer = matches!(msg, ServerMsg::Pointer { .. });
            let said = msg.to_json();
            self.relay_out(Said::Tab { tab: global, pointer, said: said.clone() });
            if let Some(t) = state.tabs.get_mut(&tab) {
                *(if pointer { &mut t.relayed_pointer } else { &mut t.relayed_selection }) = Some((global, said));
            }
        }
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

#[cfg(test)]
mod tests;
