//! The live board: one per open room page, in the browser only. It wires the
//! parts together: the shared `Session` (the tab's replica, identity and place
//! in the room's history), the shared `Editor` (the selection, any gesture in
//! progress, the tab's undo history, the colour for new shapes: the editing
//! rules, in `core`), and its presence (`TabPresence`: who else is here, what this tab
//! tells them).
//!
//! The socket is `connection`, which reports back through the `Owner` trait
//! (in `receiving`); input arrives as `input::Input`s, which `editing` hands
//! to the editor. The board sends what the session says to send, and redraws
//! the canvas (at most once per animation frame, and only when something
//! changed) and the page's signals.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use leptos::prelude::{GetUntracked, Set, request_animation_frame};
use wasm_bindgen::JsValue;

use super::announce::Announcer;
use super::canvas::Canvas;
use super::connection::Connection;
use super::identity::{self, new_shape_id, random_id};
use super::input;
use super::presence::TabPresence;
use super::writing_field::WritingField;
use super::{describe, saved};
use crate::board_ui::{BoardUi, ConnStatus};
use sketchboard_core::editor::{Editor, ToolKind};
use sketchboard_core::model::{Change, ClientId, RoomName};
use sketchboard_core::session::{Phase, Session};
use sketchboard_core::undo::History;

pub(crate) struct LiveBoard {
    /// Itself, for callbacks (animation frames) that must not keep it alive.
    pub(super) me: Weak<LiveBoard>,
    room: RoomName,
    pub(super) session: RefCell<Session>,
    pub(super) connection: Connection,
    pub(super) canvas: Canvas,
    pub(super) ui: BoardUi,
    /// The editing rules and their state: selection, gesture, undo history.
    pub(super) editor: RefCell<Editor>,
    /// The text field over a shape being written in (none on a view-only board).
    pub(super) field: Option<WritingField>,
    /// Who is here, and what this tab tells them.
    pub(super) presence: TabPresence,
    /// Others' changes, told to screen readers.
    pub(super) announcer: Announcer,
    /// Opened by a view-only link: no input edits.
    pub(super) view_only: bool,
    /// A version from history, shown instead of the live board (`replay`).
    pub(super) showing: RefCell<Option<sketchboard_core::model::Board>>,
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
    pub(crate) fn start(
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
        let presence = TabPresence::new();
        ui.name.set(presence.name());
        let url = socket_url(&room, view_only)?;
        let room_for_history = room.clone();
        let field = if view_only { None } else { WritingField::new(&el) };
        let canvas = Canvas::new(el)?;
        let (connection, runner) = Connection::new();
        let board = Rc::new_cyclic(|me| LiveBoard {
            me: me.clone(),
            room,
            session: RefCell::new(session),
            connection,
            canvas,
            ui,
            editor: RefCell::new(Editor::new(
                if restored { saved::load_history(&room_for_history) } else { History::new() },
                Box::new(new_shape_id),
            )),
            field,
            presence,
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
        board.editor.borrow_mut().set_measure(board.canvas.measure());
        let weak = Rc::downgrade(&board);
        let on_input: input::Handler = Rc::new(move |input| weak.upgrade().is_some_and(|b| b.on_input(input)));
        *board.listeners.borrow_mut() = input::attach(board.canvas.element(), on_input.clone());
        if let Some(field) = &board.field {
            let typing = input::attach_field(field.element(), on_input);
            board.listeners.borrow_mut().extend(typing);
        }
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
    pub(crate) fn stop(&self) {
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
        self.canvas.changed();
        self.save();
        // (`edit` keeps the emptied history.)
        self.edit(|e, _| e.reset_history());
        self.after_change();
    }

    /// A new display name from the page's field; false if it breaks the rule
    /// (the field then shows the name in use again).
    pub(crate) fn rename(&self, text: &str) -> bool {
        let Some(msg) = self.presence.rename(text) else {
            self.ui.name.set(self.presence.name());
            return false;
        };
        self.ui.name.set(self.presence.name());
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
                board.presence.timer_done();
                board.flush_presence();
            }
        };
        self.presence.flush(js_sys::Date::now(), |msg| self.connection.send(msg.to_json()), again);
    }

    pub(super) fn set_status(&self, status: ConnStatus) {
        if self.ui.status.get_untracked() != status {
            self.ui.status.set(status);
        }
    }

    // ---- internals -----------------------------------------------------------

    /// Keeps the unconfirmed changes across a reload of the tab.
    pub(super) fn save(&self) {
        saved::store(&self.room, &self.session.borrow().saved());
    }

    /// Keeps the undo history across a reload of the tab.
    pub(super) fn save_history(&self) {
        saved::store_history(&self.room, self.editor.borrow().history());
    }

    /// The board changed (others' changes, a new session): the editor keeps
    /// its selection to shapes still there; redraw soon.
    pub(super) fn after_change(&self) {
        self.edit(|e, doc| e.board_changed(doc.view()));
        self.invalidate();
    }

    /// The text field over the shape being written in: placed over it, and
    /// given its text when others' letters changed it (not while an input
    /// method is composing); hidden when nothing is being written in.
    pub(super) fn update_field(&self) {
        let Some(field) = &self.field else { return };
        let session = self.session.borrow();
        let mut editor = self.editor.borrow_mut();
        let live = self.showing.borrow().is_none();
        let Some(shape) = editor.writing().filter(|_| live).and_then(|id| session.view().get(id)) else {
            field.hide();
            return;
        };
        field.place(shape, self.canvas.css_of(shape.x, shape.y));
        if !field.composing.get() {
            let (start, end) = field.selection();
            if let Some(text) = editor.field_text(session.view(), start, end) {
                field.set(&text);
            }
        }
        field.reveal();
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
        // A drag's latest position goes out once per frame.
        self.edit(|e, doc| e.flush_drag(doc));
        self.editor.borrow_mut().set_pixel(self.canvas.pixel());
        self.update_field();
        let session = self.session.borrow();
        let editor = self.editor.borrow();
        let selected = editor.selection();
        let version = self.showing.borrow();
        let board = version.as_ref().unwrap_or(session.view());
        // Handles only where the selection can be changed.
        let frame = if version.is_none() && !self.view_only { editor.frame(board) } else { None };
        let writing = editor.writing().filter(|_| version.is_none());
        self.canvas.set_writing(board, writing);
        self.canvas.draw(board, selected, frame, editor.marquee());
        let now = js_sys::Date::now();
        // Others point at the live board, not at a version from history.
        let showing = version.is_none() && self.canvas.draw_others(board, &self.presence.roster.borrow(), now);
        if version.is_none() && self.presence.roster.borrow().moving(now) {
            self.invalidate();
        } else if showing {
            // Still pointers hide after a while: look again then.
            self.redraw_in(1000);
        }
        self.presence.selection(selected);
        // Signals notify on every `set`, so only set what changed.
        let pending = session.pending();
        if self.ui.pending.get_untracked() != pending {
            self.ui.pending.set(pending);
        }
        let has_selection = !selected.is_empty();
        if self.ui.has_selection.get_untracked() != has_selection {
            self.ui.has_selection.set(has_selection);
        }
        let text_tool = editor.tool() == ToolKind::Text;
        if self.ui.text_tool.get_untracked() != text_tool {
            self.ui.text_tool.set(text_tool);
        }
        let (undo, redo) = (editor.can_undo(), editor.can_redo());
        if self.ui.can_undo.get_untracked() != undo {
            self.ui.can_undo.set(undo);
        }
        if self.ui.can_redo.get_untracked() != redo {
            self.ui.can_redo.set(redo);
        }
        // Mid-drag the list would change every frame for nobody's benefit
        // (and re-render the page with it); it catches up on release.
        if !editor.pressing() {
            describe::update(self.ui.lines, board, selected);
        }
        drop((session, editor, version));
        self.flush_presence();
    }

    /// Tells screen readers that `by` did `change` (at most once a second; see `announce`).
    pub(super) fn announce(&self, change: &Change, by: Option<u32>) {
        let who = by.and_then(|id| self.presence.roster.borrow().person(id).map(|p| p.shown_name().to_owned()));
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
