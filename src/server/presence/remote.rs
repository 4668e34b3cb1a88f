//! What the other nodes have in a room: their people and tabs, as they said
//! them, and when each was last vouched for. What no node has named for
//! `FORGET_AFTER` (its node died, or a message was lost) is forgotten, as if
//! it left.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use super::said::ALIVE_EVERY;
use crate::server::frame::Frame;

/// What no node has named for this long is gone.
const FORGET_AFTER: Duration = Duration::from_secs(7);

#[derive(Default)]
pub(super) struct Remote {
    people: HashMap<u32, RemotePerson>,
    tabs: HashMap<u64, RemoteTab>,
    /// When this node last asked for a roll call.
    asked: Option<Instant>,
}

struct RemotePerson {
    said: Frame,
    /// The nodes that have them, and when each last said so.
    on: HashMap<String, Instant>,
}

struct RemoteTab {
    node: String,
    pointer: Option<Frame>,
    selection: Option<Frame>,
    seen: Instant,
}

impl Remote {
    pub(super) fn has_person(&self, id: u32) -> bool {
        self.people.contains_key(&id)
    }

    pub(super) fn people(&self) -> impl Iterator<Item = (u32, &Frame)> {
        self.people.iter().map(|(id, p)| (*id, &p.said))
    }

    pub(super) fn tabs(&self) -> impl Iterator<Item = (u64, &Option<Frame>, &Option<Frame>)> {
        self.tabs.iter().map(|(id, t)| (*id, &t.pointer, &t.selection))
    }

    /// `node` has person `id`, who says `said`.
    pub(super) fn person(&mut self, node: String, id: u32, said: Frame, now: Instant) {
        let person = self.people.entry(id).or_insert_with(|| RemotePerson { said: said.clone(), on: HashMap::new() });
        person.said = said;
        person.on.insert(node, now);
    }

    /// `node` no longer has person `id`: whether no node has them now.
    pub(super) fn person_left(&mut self, node: &str, id: u32) -> bool {
        let Some(person) = self.people.get_mut(&id) else { return false };
        person.on.remove(node);
        let gone = person.on.is_empty();
        if gone {
            self.people.remove(&id);
        }
        gone
    }

    /// `node`'s tab `tab` says `said` (its pointer, or its selection).
    pub(super) fn tab(&mut self, node: String, tab: u64, pointer: bool, said: Frame, now: Instant) {
        let fresh = || RemoteTab { node: node.clone(), pointer: None, selection: None, seen: now };
        let t = self.tabs.entry(tab).or_insert_with(fresh);
        *(if pointer { &mut t.pointer } else { &mut t.selection }) = Some(said);
        t.seen = now;
    }

    /// Tab `tab` left: whether it was known here.
    pub(super) fn tab_left(&mut self, tab: u64) -> bool {
        self.tabs.remove(&tab).is_some()
    }

    /// `node` vouches for these people and tabs. Whether the others should be
    /// asked to say everything again: someone named is unknown here (a
    /// message was lost), and nobody was asked lately.
    pub(super) fn alive(&mut self, node: &str, people: Vec<u32>, tabs: Vec<u64>, now: Instant) -> bool {
        let mut missed = false;
        for id in people {
            match self.people.get_mut(&id) {
                Some(p) => drop(p.on.insert(node.to_owned(), now)),
                None => missed = true,
            }
        }
        for tab in tabs {
            match self.tabs.get_mut(&tab) {
                Some(t) if t.node == node => t.seen = now,
                // A tab that has said nothing yet is not missed: there is nothing to show.
                _ => {}
            }
        }
        let asked_lately = self.asked.is_some_and(|at| now - at < ALIVE_EVERY);
        let ask = missed && !asked_lately;
        if ask {
            self.asked = Some(now);
        }
        ask
    }

    /// Forgets what no node named for `FORGET_AFTER`: the tabs and people gone.
    pub(super) fn forget_stale(&mut self, now: Instant) -> (Vec<u64>, Vec<u32>) {
        let tabs: Vec<u64> = self.tabs.iter().filter(|(_, t)| now - t.seen > FORGET_AFTER).map(|(id, _)| *id).collect();
        for tab in &tabs {
            self.tabs.remove(tab);
        }
        let mut people = Vec::new();
        for (id, person) in &mut self.people {
            person.on.retain(|_, seen| now - *seen <= FORGET_AFTER);
            if person.on.is_empty() {
                people.push(*id);
            }
        }
        for id in &people {
            self.people.remove(id);
        }
        (tabs, people)
    }
}
