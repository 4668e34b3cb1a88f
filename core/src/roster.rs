//! A tab's I/O-free picture of the room's presence (see `presence`): who is
//! here, and each other tab's pointer and selection, built from the server's
//! presence messages. The browser draws from it (pointers glide between
//! reports); tests read it.

use std::collections::BTreeMap;

use crate::model::ShapeId;
use crate::presence::{PERSON_COLORS, Point, SEND_EVERY_MS, STILL_HIDE_MS};
use crate::protocol::ServerMsg;

/// One person in the room, as the others see them.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: u32,
    /// Empty until they have said it.
    pub name: String,
    /// 0 to `PERSON_COLORS - 1`.
    pub color: u8,
    /// Here by a view-only link.
    pub viewer: bool,
}

impl Person {
    /// The name to show: theirs, or "Someone" until they have said it.
    pub fn shown_name(&self) -> &str {
        if self.name.is_empty() { "Someone" } else { &self.name }
    }
}

/// One of the others' tabs.
#[derive(Debug, Clone, PartialEq)]
struct Tab {
    person: u32,
    /// Where the pointer was drawn when the latest update came, where it is
    /// going, and when that update came (ms): drawn in between.
    from: Option<Point>,
    to: Option<Point>,
    since_ms: f64,
    selection: Vec<ShapeId>,
}

/// What a presence message changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Who is here (or their names or colours): the people list.
    People,
    /// Pointers or selections: the canvas.
    Board,
    /// Not a presence message.
    Nothing,
}

/// A tab's picture of the room's presence.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    you: Option<u32>,
    people: BTreeMap<u32, Person>,
    tabs: BTreeMap<u64, Tab>,
}

impl Roster {
    /// Takes in one server message at `now_ms` (the caller's clock).
    pub fn apply(&mut self, msg: &ServerMsg, now_ms: f64) -> Seen {
        match msg {
            ServerMsg::You { person } => {
                self.you = Some(*person);
                Seen::People
            }
            ServerMsg::Person { id, name, color, viewer } => {
                let person = Person { id: *id, name: name.clone(), color: *color % PERSON_COLORS, viewer: *viewer };
                self.people.insert(*id, person);
                Seen::People
            }
            ServerMsg::PersonLeft { id } => {
                self.people.remove(id);
                self.tabs.retain(|_, t| t.person != *id);
                Seen::People
            }
            ServerMsg::Pointer { tab, person, at } => {
                let drawn = self.pointer(*tab, now_ms);
                let t = self.tab(*tab, *person);
                t.from = drawn.or(*at);
                t.to = *at;
                t.since_ms = now_ms;
                Seen::Board
            }
            ServerMsg::Selection { tab, person, ids } => {
                self.tab(*tab, *person).selection = ids.clone();
                Seen::Board
            }
            ServerMsg::TabLeft { tab } => {
                self.tabs.remove(tab);
                Seen::Board
            }
            _ => Seen::Nothing,
        }
    }

    /// Forgets everyone: the connection is gone (the next one says who is here).
    pub fn clear(&mut self) {
        *self = Roster::default();
    }

    fn tab(&mut self, tab: u64, person: u32) -> &mut Tab {
        let blank = Tab { person, from: None, to: None, since_ms: 0.0, selection: Vec::new() };
        let t = self.tabs.entry(tab).or_insert(blank);
        t.person = person;
        t
    }

    /// This tab's own person, once the server has said.
    pub fn you(&self) -> Option<u32> {
        self.you
    }

    /// Everyone here, yourself first, then in the order they came.
    pub fn people(&self) -> Vec<&Person> {
        let you = self.you.and_then(|id| self.people.get(&id));
        you.into_iter().chain(self.people.values().filter(|p| Some(p.id) != self.you)).collect()
    }

    pub fn person(&self, id: u32) -> Option<&Person> {
        self.people.get(&id)
    }

    /// Where tab `tab`'s pointer is drawn at `now_ms`: on its way from where
    /// it was drawn to where it was reported, over one send interval (so a
    /// pointer sent 30 times a second moves smoothly at any frame rate).
    /// None when it is off the board, or still for `STILL_HIDE_MS`.
    pub fn pointer(&self, tab: u64, now_ms: f64) -> Option<Point> {
        let t = self.tabs.get(&tab)?;
        let to = t.to?;
        let elapsed = now_ms - t.since_ms;
        if elapsed > STILL_HIDE_MS {
            return None;
        }
        let from = t.from.unwrap_or(to);
        let k = (elapsed / SEND_EVERY_MS).clamp(0.0, 1.0);
        Some([from[0] + (to[0] - from[0]) * k, from[1] + (to[1] - from[1]) * k])
    }

    /// Whether some pointer is still on its way (the canvas keeps drawing until none is).
    pub fn moving(&self, now_ms: f64) -> bool {
        self.tabs.values().any(|t| t.to.is_some() && t.from != t.to && now_ms - t.since_ms < SEND_EVERY_MS)
    }

    /// The others' tabs, each with its person, pointer (at `now_ms`) and selection.
    pub fn others(&self, now_ms: f64) -> impl Iterator<Item = (&Person, Option<Point>, &[ShapeId])> {
        self.tabs.iter().filter_map(move |(id, t)| {
            let person = self.people.get(&t.person)?;
            Some((person, self.pointer(*id, now_ms), t.selection.as_slice()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_glide_then_rest_then_hide() {
        let mut roster = Roster::default();
        roster.apply(&ServerMsg::Person { id: 1, name: "A".into(), color: 9, viewer: false }, 0.0);
        assert_eq!(roster.person(1).map(|p| p.color), Some(1), "colours wrap into the palette");
        roster.apply(&ServerMsg::Pointer { tab: 5, person: 1, at: Some([0.0, 0.0]) }, 0.0);
        assert_eq!(roster.pointer(5, 0.0), Some([0.0, 0.0]), "the first report is drawn where it is");
        roster.apply(&ServerMsg::Pointer { tab: 5, person: 1, at: Some([100.0, 0.0]) }, 1000.0);
        let half = roster.pointer(5, 1000.0 + SEND_EVERY_MS / 2.0).unwrap();
        assert!((half[0] - 50.0).abs() < 1e-9, "{half:?}");
        assert!(roster.moving(1000.0 + 1.0));
        assert_eq!(roster.pointer(5, 1100.0), Some([100.0, 0.0]));
        assert!(!roster.moving(1100.0));
        assert_eq!(roster.pointer(5, 1000.0 + STILL_HIDE_MS + 1.0), None, "still too long");
        roster.apply(&ServerMsg::Pointer { tab: 5, person: 1, at: None }, 1200.0);
        assert_eq!(roster.pointer(5, 1200.0), None, "off the board");
    }

    #[test]
    fn people_come_and_go_with_their_tabs() {
        let mut roster = Roster::default();
        for (id, name) in [(1, "Ann"), (2, "Bo"), (3, "Cy")] {
            roster.apply(&ServerMsg::Person { id, name: name.into(), color: id as u8, viewer: false }, 0.0);
        }
        roster.apply(&ServerMsg::You { person: 2 }, 0.0);
        let names: Vec<_> = roster.people().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Bo", "Ann", "Cy"], "yourself first");
        let ids = vec![ShapeId::parse("s").unwrap()];
        roster.apply(&ServerMsg::Selection { tab: 7, person: 3, ids: ids.clone() }, 0.0);
        assert_eq!(roster.others(0.0).map(|(p, _, sel)| (p.id, sel.to_vec())).collect::<Vec<_>>(), [(3, ids)]);
        roster.apply(&ServerMsg::PersonLeft { id: 3 }, 0.0);
        assert_eq!(roster.others(0.0).count(), 0, "their tabs go with them");
        assert_eq!(roster.people().len(), 2);
    }
}
