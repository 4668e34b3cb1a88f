//! A room's presence as data, without I/O: who is here (people and their
//! tabs), what each tab last said, what the other nodes have (`Remote`).
//! Every change tells the tabs' inboxes at once and returns what to say to
//! the other nodes (nothing when alone), for `RoomPresence` to pass on.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::time::Instant;

use super::inbox::Inbox;
use super::remote::Remote;
use super::said::Said;
use crate::server::frame::Frame;
use sketchboard_core::model::ClientId;
use sketchboard_core::presence::{DisplayName, PERSON_COLORS};
use sketchboard_core::protocol::ServerMsg;

pub(super) struct State {
    /// By private person id: never shown; others know a person by `Person::id`.
    pub people: HashMap<ClientId, Person>,
    pub tabs: HashMap<u64, Tab>,
    next_person: u32,
    /// With several nodes: the people and tabs the other nodes have here.
    remote: Remote,
    /// With several nodes: bits 32..53 of this room's tabs' numbers among all
    /// nodes (random per room, so tabs of different nodes never share one).
    tag: Option<u64>,
}

pub(super) struct Person {
    pub id: u32,
    pub color: u8,
    /// Came (with their first tab here) by a view-only link.
    viewer: bool,
    /// Their `person` message, as last sent.
    said: Frame,
    tabs: usize,
}

pub(super) struct Tab {
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

fn encode(msg: &ServerMsg) -> Frame {
    Frame::from(msg.to_json())
}

impl State {
    /// Alone (`tag` none), or one of several nodes.
    pub(super) fn new(tag: Option<u64>) -> State {
        State { people: HashMap::new(), tabs: HashMap::new(), next_person: 0, remote: Remote::default(), tag }
    }

    /// Tab `tab`'s number among all nodes (below 2^53, so browsers read it exactly).
    fn global(&self, tab: u64) -> u64 {
        self.tag.map_or(tab, |tag| (tag << 32) | (tab & 0xffff_ffff))
    }

    pub(super) fn person_of(&self, tab: u64) -> Option<u32> {
        self.tabs.get(&tab).and_then(|t| self.people.get(&t.person)).map(|p| p.id)
    }

    /// Whether person `id` has a tab on this node.
    fn here(&self, id: u32) -> bool {
        self.people.values().any(|p| p.id == id)
    }

    fn tell_everyone(&self, tell: impl Fn(&Inbox)) {
        for tab in self.tabs.values() {
            tell(&tab.inbox);
        }
    }

    /// A tab arrives: its inbox is told who it is and everything present, and
    /// the others of its person if they are new. `number` is the person's
    /// number when one is given (several nodes: the same on every node).
    pub(super) fn enter(
        &mut self,
        tab: u64,
        person: ClientId,
        viewer: bool,
        number: Option<u32>,
        said: &mut Vec<Said>,
    ) -> Arc<Inbox> {
        let inbox = Arc::new(Inbox::default());
        if !self.people.contains_key(&person) {
            let (id, color) = match number {
                // Every node must give one person one colour, without asking the others.
                Some(id) => (id, (id % u32::from(PERSON_COLORS)) as u8),
                None => {
                    let id = self.next_person;
                    self.next_person += 1;
                    (id, free_color(self.people.values().map(|p| p.color), id))
                }
            };
            let message = encode(&ServerMsg::Person { id, name: String::new(), color, viewer });
            self.tell_everyone(|inbox| inbox.person(id, message.clone()));
            said.push(Said::Person { id, said: message.to_string() });
            self.people.insert(person.clone(), Person { id, color, viewer, said: message, tabs: 0 });
        }
        let you = self.people.get_mut(&person).map(|p| {
            p.tabs += 1;
            p.id
        });
        let people = self.people.values().map(|p| (p.id, &p.said));
        let local = self.tabs.iter().map(|(id, t)| (*id, &t.pointer, &t.selection));
        inbox.welcome(
            you.map(|person| encode(&ServerMsg::You { person })),
            people.chain(self.remote.people()),
            local.chain(self.remote.tabs()),
        );
        let state = Tab {
            person,
            inbox: inbox.clone(),
            pointer: None,
            selection: None,
            relayed_pointer: None,
            relayed_selection: None,
        };
        self.tabs.insert(tab, state);
        inbox
    }

    /// A tab is gone: its pointer and selection go at once, and its person
    /// with its last tab.
    pub(super) fn leave(&mut self, tab: u64, said: &mut Vec<Said>) {
        let Some(gone) = self.tabs.remove(&tab) else { return };
        let left = encode(&ServerMsg::TabLeft { tab });
        self.tell_everyone(|inbox| inbox.tab_left(tab, left.clone()));
        said.push(Said::TabLeft { tab: self.global(tab) });
        let Some(person) = self.people.get_mut(&gone.person) else { return };
        person.tabs -= 1;
        if person.tabs == 0 {
            let id = person.id;
            self.people.remove(&gone.person);
            said.push(Said::PersonLeft { id });
            // The same person may still be here through another node.
            if !self.remote.has_person(id) {
                let left = encode(&ServerMsg::PersonLeft { id });
                self.tell_everyone(|inbox| inbox.person(id, left.clone()));
            }
        }
    }

    /// A tab's person says their name: every tab, the person's own included, hears it.
    pub(super) fn rename(&mut self, tab: u64, name: &DisplayName, said: &mut Vec<Said>) {
        let Some(key) = self.tabs.get(&tab).map(|t| t.person.clone()) else { return };
        let Some(person) = self.people.get_mut(&key) else { return };
        let (id, color, viewer) = (person.id, person.color, person.viewer);
        person.said = encode(&ServerMsg::Person { id, name: name.to_string(), color, viewer });
        let message = person.said.clone();
        self.tell_everyone(|inbox| inbox.person(id, message.clone()));
        said.push(Said::Person { id, said: message.to_string() });
    }

    /// A tab's pointer or selection: every other tab hears it (on other
    /// nodes too, by the tab's number among all nodes).
    pub(super) fn tab_update(&mut self, tab: u64, update: impl Fn(u64, u32) -> ServerMsg, said: &mut Vec<Said>) {
        let Some(person) = self.person_of(tab) else { return };
        if self.tag.is_some() {
            let global = self.global(tab);
            let msg = update(global, person);
            let pointer = matches!(msg, ServerMsg::Pointer { .. });
            let text = msg.to_json();
            said.push(Said::Tab { tab: global, pointer, said: text.clone() });
            if let Some(t) = self.tabs.get_mut(&tab) {
                *(if pointer { &mut t.relayed_pointer } else { &mut t.relayed_selection }) = Some((global, text));
            }
        }
        let msg = update(tab, person);
        let is_pointer = matches!(msg, ServerMsg::Pointer { .. });
        let message = encode(&msg);
        for (id, other) in &self.tabs {
            if *id != tab {
                other.inbox.tab(tab, is_pointer, message.clone());
            }
        }
        if let Some(t) = self.tabs.get_mut(&tab) {
            *(if is_pointer { &mut t.pointer } else { &mut t.selection }) = Some(message);
        }
    }

    /// Another node (`node`) said something: its tabs' doings reach the
    /// tabs here as if they happened here.
    pub(super) fn heard(&mut self, node: String, what: Said, now: Instant, said: &mut Vec<Said>) {
        match what {
            Said::Person { id, said: message } => {
                let message = Frame::from(message);
                self.tell_everyone(|inbox| inbox.person(id, message.clone()));
                self.remote.person(node, id, message, now);
            }
            Said::PersonLeft { id } => {
                if self.remote.person_left(&node, id) {
                    self.gone_person(id);
                }
            }
            Said::Tab { tab, pointer, said: message } => {
                let message = Frame::from(message);
                self.tell_everyone(|inbox| inbox.tab(tab, pointer, message.clone()));
                self.remote.tab(node, tab, pointer, message, now);
            }
            Said::TabLeft { tab } => {
                if self.remote.tab_left(tab) {
                    self.gone_tab(tab);
                }
            }
            Said::Alive { people, tabs } => {
                if self.remote.alive(&node, people, tabs, now) {
                    said.push(Said::Roll);
                }
            }
            Said::Roll => self.everything(said),
        }
    }

    /// Every `ALIVE_EVERY`: who this node has, and what no other node named
    /// lately is forgotten.
    pub(super) fn beat(&mut self, now: Instant, said: &mut Vec<Said>) {
        let people = self.people.values().map(|p| p.id).collect();
        let tabs = self.tabs.keys().map(|t| self.global(*t)).collect();
        said.push(Said::Alive { people, tabs });
        let (tabs, people) = self.remote.forget_stale(now);
        for tab in tabs {
            self.gone_tab(tab);
        }
        for id in people {
            self.gone_person(id);
        }
    }

    /// Everything this node has, for a node that asked.
    fn everything(&self, said: &mut Vec<Said>) {
        for p in self.people.values() {
            said.push(Said::Person { id: p.id, said: p.said.to_string() });
        }
        for tab in self.tabs.values() {
            for (pointer, relayed) in [(true, &tab.relayed_pointer), (false, &tab.relayed_selection)] {
                if let Some((global, text)) = relayed {
                    said.push(Said::Tab { tab: *global, pointer, said: text.clone() });
                }
            }
        }
    }

    /// A remote person is gone from every other node: gone here too, unless they have a tab here.
    fn gone_person(&self, id: u32) {
        if !self.here(id) {
            let left = encode(&ServerMsg::PersonLeft { id });
            self.tell_everyone(|inbox| inbox.person(id, left.clone()));
        }
    }

    fn gone_tab(&self, tab: u64) {
        let left = encode(&ServerMsg::TabLeft { tab });
        self.tell_everyone(|inbox| inbox.tab_left(tab, left.clone()));
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
