#![allow(clippy::unwrap_used)]
use std::sync::Arc;

use super::*;
use sketchboard_core::presence::PERSON_COLORS;

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
    let room_presence = Arc::new(RoomPresence::default());
    let (slow, _slow_out) = room_presence.enter(1, person("slow"), false, None);
    let (_, busy) = room_presence.enter(2, person("busy"), false, None);
    taken(&slow);
    for i in 0..1000 {
        let at = Some([f64::from(i), 1.0]);
        room_presence.tab_update(busy.tab, |tab, person| ServerMsg::Pointer { tab, person, at });
    }
    let ids = vec![ShapeId::parse("a").unwrap()];
    room_presence.tab_update(busy.tab, |tab, person| ServerMsg::Selection { tab, person, ids: ids.clone() });
    let waiting = taken(&slow);
    assert_eq!(waiting.len(), 2, "one pointer and one selection: {waiting:?}");
    assert!(waiting[0].contains("[999.0,1.0]"), "the latest: {waiting:?}");
    drop(busy);
    let waiting = taken(&slow);
    assert!(waiting.iter().any(|m| m.contains("tab_left")) && waiting.iter().any(|m| m.contains("person_left")));
}

#[test]
fn colours_are_distinct_while_there_are_enough() {
    let room_presence = Arc::new(RoomPresence::default());
    let mut tabs: Vec<_> = (0..u64::from(PERSON_COLORS) + 1)
        .map(|i| room_presence.enter(i, person(&format!("p{i}")), false, None))
        .collect();
    let colors: Vec<u8> = room_presence.state().people.values().map(|p| p.color).collect();
    let mut distinct = colors.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), usize::from(PERSON_COLORS), "{colors:?}");
    // A colour freed is the next one given.
    let freed = room_presence.state().people[&person("p3")].color;
    drop(tabs.remove(3));
    let _again = room_presence.enter(99, person("late"), false, None);
    assert_eq!(room_presence.state().people[&person("late")].color, freed);
}
