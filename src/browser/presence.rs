//! This tab's presence (see `sketchboard_core::presence`): the person it
//! belongs to and their name (kept in `localStorage`, so every tab and the
//! next visit share them), what it tells the room of its pointer and
//! selection, and the `Roster` of everyone else.
//!
//! Updates leave at most `SEND_EVERY_MS` apart: a burst of pointer moves
//! collapses into the latest, sent when the interval is up, so a fast mouse
//! costs the room 30 messages a second and the last position always arrives.

use std::cell::{Cell, RefCell};

use gloo_timers::callback::Timeout;

use crate::board_ui::PersonLine;
use sketchboard_core::model::{BOARD_HEIGHT, BOARD_WIDTH, ClientId, ShapeId};
use sketchboard_core::presence::{DisplayName, MAX_SHOWN_SELECTION, PERSON_PALETTE, Point, SEND_EVERY_MS};
use sketchboard_core::protocol::ClientMsg;
use sketchboard_core::roster::Roster;

const PERSON_KEY: &str = "sketchboard-person";
const NAME_KEY: &str = "sketchboard-name";

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// This browser's person id: made once, then the same in every tab.
pub(super) fn person_id() -> Option<ClientId> {
    let storage = local();
    let stored = storage.as_ref().and_then(|s| s.get_item(PERSON_KEY).ok().flatten());
    if let Some(id) = stored.and_then(|s| ClientId::parse(s).ok()) {
        return Some(id);
    }
    let id = ClientId::parse(super::identity::random_id()).ok()?;
    if let Some(s) = storage {
        let _ = s.set_item(PERSON_KEY, id.as_str());
    }
    Some(id)
}

/// The name this browser last used, or a friendly random one ("Blue Otter").
pub(super) fn saved_name() -> DisplayName {
    let stored = local().and_then(|s| s.get_item(NAME_KEY).ok().flatten());
    if let Some(name) = stored.and_then(|s| DisplayName::parse(&s).ok()) {
        return name;
    }
    const FIRST: [&str; 10] = ["Blue", "Red", "Green", "Amber", "Coral", "Teal", "Violet", "Golden", "Silver", "Jade"];
    const SECOND: [&str; 10] =
        ["Otter", "Fox", "Heron", "Lynx", "Panda", "Koala", "Falcon", "Badger", "Dolphin", "Owl"];
    let pick = |n: usize| (js_sys::Math::random() * n as f64) as usize % n;
    let name = format!("{} {}", FIRST[pick(FIRST.len())], SECOND[pick(SECOND.len())]);
    DisplayName::parse(&name).unwrap_or_else(|_| unreachable!("the parts make a valid name"))
}

fn remember_name(name: &DisplayName) {
    if let Some(s) = local() {
        let _ = s.set_item(NAME_KEY, name.as_str());
    }
}

/// What this tab says and sees of presence.
pub(super) struct TabPresence {
    pub roster: RefCell<Roster>,
    name: RefCell<DisplayName>,
    /// Held until the next send: a pointer report and whether the selection changed.
    pointer: Cell<Option<Option<Point>>>,
    selection: RefCell<Option<Vec<ShapeId>>>,
    /// The selection last told the room.
    told: RefCell<Vec<ShapeId>>,
    last_sent: Cell<f64>,
    timer: RefCell<Option<Timeout>>,
}

impl TabPresence {
    pub(super) fn new() -> TabPresence {
        TabPresence {
            roster: RefCell::new(Roster::default()),
            name: RefCell::new(saved_name()),
            pointer: Cell::new(None),
            selection: RefCell::new(None),
            told: RefCell::new(Vec::new()),
            last_sent: Cell::new(f64::NEG_INFINITY),
            timer: RefCell::new(None),
        }
    }

    pub(super) fn name(&self) -> String {
        self.name.borrow().to_string()
    }

    /// A new name from the field: kept, remembered, and the message that
    /// tells the room. None (and nothing kept) when it breaks the rule.
    pub(super) fn rename(&self, text: &str) -> Option<ClientMsg> {
        let name = DisplayName::parse(text).ok()?;
        remember_name(&name);
        *self.name.borrow_mut() = name.clone();
        Some(ClientMsg::Name { name })
    }

    /// What to tell a room just joined: the name, and what is selected.
    pub(super) fn joined(&self) -> Vec<ClientMsg> {
        let ids = self.told.borrow().clone();
        vec![ClientMsg::Name { name: self.name.borrow().clone() }, ClientMsg::Selection { ids }]
    }

    /// The connection is gone: everyone else with it (the next one says who is here).
    pub(super) fn lost(&self) {
        self.roster.borrow_mut().clear();
    }

    /// The pointer is at `at` on the board (None: it left the board).
    pub(super) fn pointer(&self, at: Option<(f64, f64)>) {
        let at = at.map(|(x, y)| [x.clamp(0.0, BOARD_WIDTH), y.clamp(0.0, BOARD_HEIGHT)]);
        self.pointer.set(Some(at));
    }

    /// The selection is now `ids`: told to the room if it differs from what it was told.
    pub(super) fn selection(&self, ids: &[ShapeId]) {
        let ids = &ids[..ids.len().min(MAX_SHOWN_SELECTION)];
        if *self.told.borrow() != ids {
            *self.told.borrow_mut() = ids.to_vec();
            *self.selection.borrow_mut() = Some(ids.to_vec());
        }
    }

    /// Sends what is held through `send` if the interval is up, or sets a
    /// timer that calls `again` when it is (which calls `timer_done`, then this).
    pub(super) fn flush(&self, now: f64, send: impl Fn(ClientMsg), again: impl FnOnce() + 'static) {
        let held = self.pointer.get().is_some() || self.selection.borrow().is_some();
        if !held || self.timer.borrow().is_some() {
            return;
        }
        let wait = self.last_sent.get() + SEND_EVERY_MS - now;
        if wait > 0.0 {
            *self.timer.borrow_mut() = Some(Timeout::new(wait.ceil() as u32, again));
            return;
        }
        self.last_sent.set(now);
        if let Some(at) = self.pointer.take() {
            send(ClientMsg::Pointer { at });
        }
        if let Some(ids) = self.selection.borrow_mut().take() {
            send(ClientMsg::Selection { ids });
        }
    }

    /// The timer fired: the next `flush` may send.
    pub(super) fn timer_done(&self) {
        self.timer.borrow_mut().take();
    }

    /// The people list as the page shows it.
    pub(super) fn people(&self) -> Vec<PersonLine> {
        let roster = self.roster.borrow();
        let you = roster.you();
        roster
            .people()
            .into_iter()
            .map(|p| PersonLine {
                id: p.id,
                name: p.shown_name().to_owned(),
                color: PERSON_PALETTE[usize::from(p.color) % PERSON_PALETTE.len()],
                you: Some(p.id) == you,
                viewer: p.viewer,
            })
            .collect()
    }
}
