//! The live board: one per open room page, in the browser only. It wires the
//! parts together and keeps what only the page has: the selection, any drag
//! in progress, the tab's undo history, the colour for new shapes, and its
//! presence (`Here`: who else is here, what this tab tells them).
//!
//! The protocol is the shared `Session` (the tab's replica, identity and place
//! in the room's history); the socket is `connection`, which reports back
//! through the `Owner` trait (in `receiving`); input arrives as
//! `input::Input`s, and what each does is in `editing`. The board sends what the session says to send, and
//! redraws the canvas (at most once per animation frame, and only when
//! something changed) and the page's signals.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use leptos::prelude::{GetUntracked, Set, request_animation_frame};
use wasm_bindgen::JsValue;

use super::announce::Announcer;
use super::board_ui::{BoardUi, ConnStatus};
use super::canvas::Canvas;
use super::connection::Connection;
use super::identity::{self, random_id};
use super::input;
use super::presence::Here;
use super::{describe, saved};
use crate::history::{History, Step};
use crate::model::{Change, ClientId, Color, RoomName, ShapeId};
use crate::session::{Phase, Session};

/// What a press on the board started.
pub(super) enum Drag {
    /// Moving the selection: each shape keeps its offset from the pointer.
    Shapes {
        /// Each shape and where it was when the drag began.
        from: Vec<(ShapeId, f64, f64)>,
        /// Where the pointer was then.
        start: (f64, f64),
        /// The pointer's latest position, if it has not been acted on yet.
        target: Option<(f64, f64)>,
        /// The whole drag is one undo step: the shapes as they were before.
        step: Step,
    },
    /// A selection rectangle from `start` to `to`; with `add`, what it
    /// touches joins what was selected before (`base`). `before` is the
    /// selection before the press, for a press a pinch takes over.
    Marquee { start: (f64, f64), to: (f64, f64), add: bool, base: Vec<ShapeId>, before: Vec<ShapeId> },
}

/// The rectangle [x0, y0, x1, y1] with corners `a` and `b`.
pub(super) fn rect(a: (f64, f64), b: (f64, f64)) -> [f64; 4] {
    [a.0.min(b.0), a.1.min(b.1), a.0.max(b.0), a.1.max(b.1)]
}

pub struct LiveBoard {
    /// Itself, for callbacks (animation frames) that must not keep it alive.
    pub(super) me: Weak<LiveBoard>,
    room: RoomName,
    pub(super) session: RefCell<Session>,
    pub(super) connection: Connection,
    pub(super) canvas: Canvas,
    pub(super) ui: BoardUi,
    /// The selected shapes, in the order they were selected.
    pub(super) selected: RefCell<Vec<ShapeId>>,
    pub(super) drag: RefCell<Option<Drag>>,
    pub(super) history: RefCell<History>,
    /// The colour new shapes take: the last one chosen.
    pub(super) color: Cell<Option<Color>>,
    /// When the last arrow-key move was made, while a burst of them goes on.
    pub(super) last_nudge: Cell<Option<f64>>,
    /// Who is here, and what this tab tells them.
    pub(super) here: Here,
    /// Others' changes, told to screen readers.
    pub(super) announcer: Announcer,
    /// Opened by a view-only link: no input edits.
    pub(super) view_only: bool,
    /// A version from history, shown instead of the live board (`replay`).
    pub(super) showing: RefCell<Option<crate::model::Board>>,
    /// On a history page: only looked at, even before its first version arrives.
    pub(super) looking_back: Cell<bool>,
    /// Paints the version shown sharp once the slider rests (`replay`).
    pub(super) sharpen: RefCell<Option<gloo_timers::callback::Timeout>>,
    /// Why the server last turned this tab away (room full), shown while retrying.
    pub(super) refusal: Cell<Option<ConnStatus>>,
    frame_requested: Cell<bool>,
    redraw_timer: RefCell<Option<gloo_timers::callback::Timeout>>,
    listeners: RefCell<Vec<gloo_events::EventListener>>,
}

impl LiveBoard {
    /// Starts the board of `room`; with `view_only`, `room` is a view-only
    /// token: the board is watched and pointed at, never edited.
    pub fn start(
        room: RoomName,
        el: web_sys::HtmlCanvasElement,
        ui: BoardUi,
        view_only: bool,
    ) -> Result<Rc<LiveBoard>, JsValue> {
        // The tab's id and unsent changes come back with a reload (`saved`).
        let saved = saved::load(&room);
        let restored = saved.is_some();
        let mut session = match saved {
            Some(saved) => Session::restore(saved),
            None => Session::new(new_client_id()?),
        };
        if let Some(person) = super::presence::person_id() {
            session.set_person(person);
        }
        let here = Here::new();
        ui.name.set(here.name());
        let url = socket_url(&room, view_only)?;
        let room_for_history = room.clone();
        let canvas = Canvas::new(el)?;
        let (connection, runner) = Connection::new();
        let board = Rc::new_cyclic(|me| LiveBoard {
            me: me.clone(),
            room,
            session: RefCell::new(session),
            connection,
            canvas,
            ui,
            selected: RefCell::new(Vec::new()),
            drag: RefCell::new(None),
            history: RefCell::new(if restored { saved::load_history(&room_for_history) } else { History::new() }),
            color: Cell::new(None),
            last_nudge: Cell::new(None),
            here,
            view_only,
            showing: RefCell::new(None),
            looking_back: Cell::new(false),
            sharpen: RefCell::new(None),
            announcer: Announcer::default(),
            refusal: Cell::new(None),
            frame_requested: Cell::new(false),
            redraw_timer: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
        });
        let weak = Rc::downgrade(&board);
        let on_input: input::Handler = Rc::new(move |input| weak.upgrade().is_some_and(|b| b.on_input(input)));
        *board.listeners.borrow_mut() = input::attach(board.canvas.element(), on_input);
        if !view_only {
            let drops = board.accept_drops();
            board.listeners.borrow_mut().extend(drops);
        }

        let weak = Rc::downgrade(&board);
        wasm_bindgen_futures::spawn_local(async move {
            // A restored id is checked before it is used (see `identity`).
            if restored && let Some(b) = weak.upgrade() {
                let (room, client) = (b.room.clone(), b.client());
                drop(b);
                if !identity::claim(&room, &client).await
                    && let Some(b) = weak.upgrade()
                {
                    b.start_afresh();
                }
            }
            let Some(b) = weak.upgrade() else { return };
            let me = weak.clone();
            let answering = identity::answer_claims(&b.room, move || me.upgrade().map(|b| b.client()));
            b.listeners.borrow_mut().extend(answering);
            drop(b);
            runner.run(weak, url).await;
        });
        board.invalidate();
        Ok(board)
    }

    /// Detaches input and closes the connection: the page is going away.
    pub fn stop(&self) {
        self.listeners.borrow_mut().clear();
        self.connection.stop();
    }

    fn client(&self) -> ClientId {
        self.session.borrow().client().clone()
    }

    /// Another page uses our restored id: take a new one, and leave the
    /// copied unsent changes to that page, which made them.
    fn start_afresh(&self) {
        let Ok(client) = new_client_id() else { return };
        leptos::logging::log!("another tab uses this tab's saved identity: starting afresh");
        let mut session = Session::new(client);
        if let Some(person) = super::presence::person_id() {
            session.set_person(person);
        }
        *self.session.borrow_mut() = session;
        *self.history.borrow_mut() = History::new();
        self.canvas.changed();
        self.save();
        self.save_history();
        self.after_change();
    }

    /// A new display name from the page's field; false if it breaks the rule
    /// (the field then shows the name in use again).
    pub fn rename(&self, text: &str) -> bool {
        let Some(msg) = self.here.rename(text) else {
            self.ui.name.set(self.here.name());
            return false;
        };
        self.ui.name.set(self.here.name());
        if self.session.borrow().phase() == Phase::Live {
            self.connection.send(msg.to_json());
        }
        true
    }

    /// Sends the pointer and selection held for the room, when the send interval allows.
    pub(super) fn flush_presence(&self) {
        if self.session.borrow().phase() != Phase::Live {
            return;
        }
        let me = self.me.clone();
        let again = move || {
            if let Some(board) = me.upgrade() {
                board.here.timer_done();
                board.flush_presence();
            }
        };
        self.here.flush(js_sys::Date::now(), |msg| self.connection.send(msg.to_json()), again);
    }

    pub(super) fn set_status(&self, status: ConnStatus) {
        if self.ui.status.get_untracked() != status {
            self.ui.status.set(status);
        }
    }

    // ---- internals -----------------------------------------------------------

    /// Applies a change locally and sends it if connected; otherwise it waits
    /// in the session and is sent after the next answer to hello.
    pub(super) fn submit(&self, change: Change) -> bool {
        let made = self.session.borrow_mut().change(change.clone());
        let outgoing = match made {
            Ok(made) => made.send,
            Err(e) => {
                leptos::logging::warn!("change not applied: {e}");
                return false;
            }
        };
        match &change {
            Change::Move { id, .. } => self.canvas.moved(id),
            _ => self.canvas.changed(),
        }
        self.save();
        for msg in outgoing {
            self.connection.send(msg.to_json());
        }
        self.after_change();
        true
    }

    /// Keeps the unconfirmed changes across a reload of the tab.
    pub(super) fn save(&self) {
        saved::store(&self.room, &self.session.borrow().saved());
    }

    /// Keeps the undo history across a reload of the tab.
    pub(super) fn save_history(&self) {
        saved::store_history(&self.room, &self.history.borrow());
    }

    /// Something visible changed: keep the selection valid and redraw soon.
    pub(super) fn after_change(&self) {
        let gone = {
            let session = self.session.borrow();
            let view = session.view();
            let mut selected = self.selected.borrow_mut();
            let before = selected.len();
            selected.retain(|id| view.get(id).is_some());
            selected.len() != before
        };
        if gone && matches!(*self.drag.borrow(), Some(Drag::Shapes { .. })) {
            *self.drag.borrow_mut() = None;
        }
        self.invalidate();
    }

    /// Asks for a redraw at the next animation frame (once, however often called).
    pub(super) fn invalidate(&self) {
        if self.frame_requested.replace(true) {
            return;
        }
        let weak = self.me.clone();
        request_animation_frame(move || {
            if let Some(board) = weak.upgrade() {
                board.frame();
            }
        });
    }

    fn frame(&self) {
        self.frame_requested.set(false);
        self.flush_drag();
        let session = self.session.borrow();
        let selected = self.selected.borrow();
        let marquee = match &*self.drag.borrow() {
            Some(Drag::Marquee { start, to, .. }) => Some(rect(*start, *to)),
            _ => None,
        };
        let version = self.showing.borrow();
        let board = version.as_ref().unwrap_or(session.view());
        self.canvas.draw(board, &selected, marquee);
        let now = js_sys::Date::now();
        // Others point at the live board, not at a version from history.
        let showing = version.is_none() && self.canvas.draw_others(board, &self.here.roster.borrow(), now);
        if version.is_none() && self.here.roster.borrow().moving(now) {
            self.invalidate();
        } else if showing {
            // Still pointers hide after a while: look again then.
            self.redraw_in(1000);
        }
        self.here.selection(&selected);
        // Signals notify on every `set`, so only set what changed.
        let pending = session.pending();
        if self.ui.pending.get_untracked() != pending {
            self.ui.pending.set(pending);
        }
        let has_selection = !selected.is_empty();
        if self.ui.has_selection.get_untracked() != has_selection {
            self.ui.has_selection.set(has_selection);
        }
        let (undo, redo) = {
            let history = self.history.borrow();
            (history.can_undo(), history.can_redo())
        };
        if self.ui.can_undo.get_untracked() != undo {
            self.ui.can_undo.set(undo);
        }
        if self.ui.can_redo.get_untracked() != redo {
            self.ui.can_redo.set(redo);
        }
        // Mid-drag the list would change every frame for nobody's benefit
        // (and re-render the page with it); it catches up on release.
        if self.drag.borrow().is_none() {
            describe::update(self.ui.lines, board, &selected);
        }
        drop((session, selected, version));
        self.flush_presence();
    }

    /// Tells screen readers that `by` did `change` (at most once a second; see `announce`).
    pub(super) fn announce(&self, change: &Change, by: Option<u32>) {
        let who = by.and_then(|id| self.here.roster.borrow().person(id).map(|p| p.shown_name().to_owned()));
        let who = who.unwrap_or_else(|| "Someone".to_owned());
        let what = super::announce::what(change, self.session.borrow().view());
        let me = self.me.clone();
        let later = move || {
            if let Some(board) = me.upgrade()
                && let Some(line) = board.announcer.take(js_sys::Date::now())
            {
                board.ui.announce.set(line);
            }
        };
        if let Some(line) = self.announcer.heard(who, what, js_sys::Date::now(), later) {
            self.ui.announce.set(line);
        }
    }

    /// Asks for a redraw in `ms` (once: a second ask meanwhile is ignored).
    fn redraw_in(&self, ms: u32) {
        if self.redraw_timer.borrow().is_some() {
            return;
        }
        let me = self.me.clone();
        let timer = gloo_timers::callback::Timeout::new(ms, move || {
            if let Some(board) = me.upgrade() {
                board.redraw_timer.borrow_mut().take();
                board.invalidate();
            }
        });
        *self.redraw_timer.borrow_mut() = Some(timer);
    }
}

fn new_client_id() -> Result<ClientId, JsValue> {
    ClientId::parse(random_id()).map_err(|e| JsValue::from_str(&e.to_string()))
}

fn socket_url(room: &RoomName, view_only: bool) -> Result<String, JsValue> {
    let location = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?.location();
    let scheme = if location.protocol()? == "https:" { "wss" } else { "ws" };
    let path = if view_only { "ws/v" } else { "ws" };
    Ok(format!("{scheme}://{}/{path}/{room}", location.host()?))
}
