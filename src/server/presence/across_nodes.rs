//! Several nodes: a room's presence passed between the nodes that have it
//! loaded (`peers`: over the room's Redis Pub/Sub channel), never stored. Each node says what its own tabs do (`Said`, with the node's
//! name) and keeps what the others say (`Remote`), passing it to its own tabs
//! as if it happened here. A node that starts listening asks the others to
//! say everything again (`Roll`). Every `ALIVE_EVERY` each node names the
//! people and tabs it still has; what no node has vouched for in
//! `FORGET_AFTER` (its node died, or a message was lost) goes, as if it left.
//!
//! Tabs are numbered per node (`ConnId`), so a tab is known to other nodes by
//! a number with this room's random tag in its high bits (`RoomPresence::global`),
//! below 2^53 so that browsers read it exactly.

use std::collections::HashMap;
use std::sync::Weak;
use std::time::Duration;

use crate::server::frame::Frame;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{RoomPresence, State, encode};
use crate::server::peers;
use sketchboard_core::model::RoomName;
use sketchboard_core::protocol::ServerMsg;

/// How often a node names who it still has.
const ALIVE_EVERY: Duration = Duration::from_secs(2);
/// What no node has named for this long is gone.
const FORGET_AFTER: Duration = Duration::from_secs(7);
/// Messages waiting to be published; past it presence is dropped (the next
/// update says the same, newer).
const QUEUE: usize = 1024;

/// What one node says about its own tabs.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub(super) enum Said {
    /// A person is here (or renamed): their `person` message.
    Person {
        id: u32,
        said: String,
    },
    PersonLeft {
        id: u32,
    },
    /// A tab's pointer (or selection): the message, with the tab's global number.
    Tab {
        tab: u64,
        pointer: bool,
        said: String,
    },
    TabLeft {
        tab: u64,
    },
    /// Who this node still has.
    Alive {
        people: Vec<u32>,
        tabs: Vec<u64>,
    },
    /// Everyone, say everything again (a node started listening, or missed something).
    Roll,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    node: String,
    #[serde(flatten)]
    said: Said,
}

/// This room's way to the other nodes.
pub(super) struct Relay {
    node: String,
    /// Bits 32..53 of this room's tabs' numbers among all nodes.
    tag: u64,
    out: mpsc::Sender<String>,
}

impl Relay {
    pub(super) fn start(peers: &peers::Shared, room: RoomName, room_presence: Weak<RoomPresence>) -> Relay {
        let (out, rx) = mpsc::channel(QUEUE);
        let node = peers.node().to_owned();
        tokio::spawn(publish(peers.clone(), room, rx, room_presence));
        Relay { node, tag: (rand::random::<u64>() & 0x1f_ffff) | 1, out }
    }
}

/// Publishes what the room says, in order, and says who is alive every
/// `ALIVE_EVERY`, until the room's presence is gone.
async fn publish(
    peers: peers::Shared,
    room: RoomName,
    mut said: mpsc::Receiver<String>,
    room_presence: Weak<RoomPresence>,
) {
    let mut alive = tokio::time::interval(ALIVE_EVERY);
    loop {
        tokio::select! {
            text = said.recv() => {
                let Some(text) = text else { return };
                if let Err(e) = peers.publish_presence(&room, text).await {
                    tracing::debug!(%room, error = %e, "could not pass presence to the other nodes");
                }
            }
            _ = alive.tick() => {
                let Some(room_presence) = room_presence.upgrade() else { return };
                room_presence.beat();
            }
        }
    }
}

/// What the other nodes have in the room.
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
}

fn tell_everyone(state: &State, tell: impl Fn(&super::Inbox)) {
    for tab in state.tabs.values() {
        tell(&tab.inbox);
    }
}

impl RoomPresence {
    /// Passes `said` to the other nodes (nothing without several nodes).
    pub(super) fn relay_out(&self, said: Said) {
        let Some(relay) = &self.relay else { return };
        match serde_json::to_string(&Envelope { node: relay.node.clone(), said }) {
            // A full queue drops it: what comes next says the same, newer.
            Ok(text) => drop(relay.out.try_send(text)),
            Err(e) => tracing::warn!(error = %e, "could not encode presence for the other nodes"),
        }
    }

    /// Tab `tab`'s number among all nodes.
    pub(super) fn global(&self, tab: u64) -> u64 {
        self.relay.as_ref().map_or(tab, |r| (r.tag << 32) | (tab & 0xffff_ffff))
    }

    /// This node now hears the others: they are asked to say everything.
    pub(crate) fn listening(&self) {
        self.relay_out(Said::Roll);
    }

    /// Another node said something on the room's channel.
    pub(crate) fn heard(&self, text: &str) {
        let Some(relay) = &self.relay else { return };
        let Ok(Envelope { node, said }) = serde_json::from_str::<Envelope>(text) else {
            tracing::debug!("ignored presence from another node that does not parse");
            return;
        };
        if node == relay.node {
            return;
        }
        let now = Instant::now();
        let mut state = self.state();
        match said {
            Said::Person { id, said } => {
                let said = Frame::from(said);
                tell_everyone(&state, |inbox| inbox.person(id, said.clone()));
                let person = state
                    .remote
                    .people
                    .entry(id)
                    .or_insert_with(|| RemotePerson { said: said.clone(), on: HashMap::new() });
                person.said = said;
                person.on.insert(node, now);
            }
            Said::PersonLeft { id } => {
                if let Some(person) = state.remote.people.get_mut(&id) {
                    person.on.remove(&node);
                    if person.on.is_empty() {
                        state.remote.people.remove(&id);
                        gone_person(&state, id);
                    }
                }
            }
            Said::Tab { tab, pointer, said } => {
                let said = Frame::from(said);
                tell_everyone(&state, |inbox| inbox.tab(tab, pointer, said.clone()));
                let fresh = || RemoteTab { node: node.clone(), pointer: None, selection: None, seen: now };
                let t = state.remote.tabs.entry(tab).or_insert_with(fresh);
                *(if pointer { &mut t.pointer } else { &mut t.selection }) = Some(said);
                t.seen = now;
            }
            Said::TabLeft { tab } => {
                if state.remote.tabs.remove(&tab).is_some() {
                    gone_tab(&state, tab);
                }
            }
            Said::Alive { people, tabs } => {
                let mut missed = false;
                for id in people {
                    match state.remote.people.get_mut(&id) {
                        Some(p) => drop(p.on.insert(node.clone(), now)),
                        None => missed = true,
                    }
                }
                for tab in tabs {
                    match state.remote.tabs.get_mut(&tab) {
                        Some(t) if t.node == node => t.seen = now,
                        // A tab that has said nothing yet is not missed: there is nothing to show.
                        _ => {}
                    }
                }
                let asked_lately = state.remote.asked.is_some_and(|at| now - at < ALIVE_EVERY);
                if missed && !asked_lately {
                    state.remote.asked = Some(now);
                    self.relay_out(Said::Roll);
                }
            }
            Said::Roll => self.say_everything(&state),
        }
    }

    /// Every `ALIVE_EVERY`: names who this node has, and forgets what no
    /// other node named for `FORGET_AFTER`.
    fn beat(&self) {
        let mut state = self.state();
        let people = state.people.values().map(|p| p.id).collect();
        let tabs = state.tabs.keys().map(|t| self.global(*t)).collect();
        self.relay_out(Said::Alive { people, tabs });
        let now = Instant::now();
        let stale: Vec<u64> =
            state.remote.tabs.iter().filter(|(_, t)| now - t.seen > FORGET_AFTER).map(|(id, _)| *id).collect();
        for tab in stale {
            state.remote.tabs.remove(&tab);
            gone_tab(&state, tab);
        }
        let mut gone = Vec::new();
        for (id, person) in &mut state.remote.people {
            person.on.retain(|_, seen| now - *seen <= FORGET_AFTER);
            if person.on.is_empty() {
                gone.push(*id);
            }
        }
        for id in gone {
            state.remote.people.remove(&id);
            gone_person(&state, id);
        }
    }

    /// Everything this node has, for a node that asked.
    fn say_everything(&self, state: &State) {
        for p in state.people.values() {
            self.relay_out(Said::Person { id: p.id, said: p.said.to_string() });
        }
        for tab in state.tabs.values() {
            for (pointer, said) in [(true, &tab.relayed_pointer), (false, &tab.relayed_selection)] {
                if let Some((global, said)) = said {
                    self.relay_out(Said::Tab { tab: *global, pointer, said: said.clone() });
                }
            }
        }
    }
}

/// A remote person is gone from every other node: gone here too, unless they have a tab here.
fn gone_person(state: &State, id: u32) {
    if !state.here(id) {
        let left = encode(&ServerMsg::PersonLeft { id });
        tell_everyone(state, |inbox| inbox.person(id, left.clone()));
    }
}

fn gone_tab(state: &State, tab: u64) {
    let left = encode(&ServerMsg::TabLeft { tab });
    tell_everyone(state, |inbox| inbox.tab_left(tab, left.clone()));
}
