//! The live board: one per open room page, in the browser only. It wires the
//! parts together and keeps what only the page has: the selection and any drag
//! in progress.
//!
//! The protocol is the shared `Session` (the tab's replica, identity and place
//! in the room's history); the socket is `connection`, which reports back
//! through the `Owner` trait; input arrives as `input::Input`s. The board
//! turns input into changes for the session, sends what the session says to
//! send, and redraws the canvas (at most once per animation frame, and only
//! when something changed) and the page's signals.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use leptos::prelude::{GetUntracked, Set, request_animation_frame};
use wasm_bindgen::JsValue;

use super::board_ui::{BoardUi, ConnStatus};
use super::canvas::Canvas;
use super::connection::{Connection, Owner, Verdict};
use super::input::{self, Input};
use super::{describe, identity, saved};
use crate::model::{Change, ClientId, RoomName, Shape, ShapeId, ShapeKind, clamp_to_board};
use crate::protocol::ErrorCode;
use crate::session::{Event, Session};

struct Drag {
    id: ShapeId,
    /// Where on the shape it was grabbed, so it does not jump under the pointer.
    grab: (f64, f64),
    /// The latest position to send, if it has not been sent yet.
    target: Option<(f64, f64)>,
}

pub struct LiveBoard {
    /// Itself, for callbacks (animation frames) that must not keep it alive.
    me: Weak<LiveBoard>,
    room: RoomName,
    session: RefCell<Session>,
    connection: Connection,
    canvas: Canvas,
    ui: BoardUi,
    selected: RefCell<Option<ShapeId>>,
    drag: RefCell<Option<Drag>>,
    /// Why the server last turned this tab away (room full), shown while retrying.
    refusal: Cell<Option<ConnStatus>>,
    frame_requested: Cell<bool>,
    listeners: RefCell<Vec<gloo_events::EventListener>>,
}

impl LiveBoard {
    pub fn start(room: RoomName, el: web_sys::HtmlCanvasElement, ui: BoardUi) -> Result<Rc<LiveBoard>, JsValue> {
        // The tab's id and unsent changes come back with a reload (`saved`).
        let saved = saved::load(&room);
        let restored = saved.is_some();
        let session = match saved {
            Some(saved) => Session::restore(saved),
            None => Session::new(new_client_id()?),
        };
        let url = socket_url(&room)?;
        let canvas = Canvas::new(el)?;
        let (connection, runner) = Connection::new();
        let board = Rc::new_cyclic(|me| LiveBoard {
            me: me.clone(),
            room,
            session: RefCell::new(session),
            connection,
            canvas,
            ui,
            selected: RefCell::new(None),
            drag: RefCell::new(None),
            refusal: Cell::new(None),
            frame_requested: Cell::new(false),
            listeners: RefCell::new(Vec::new()),
        });
        let weak = Rc::downgrade(&board);
        let on_input: input::Handler = Rc::new(move |input| weak.upgrade().is_some_and(|b| b.on_input(input)));
        *board.listeners.borrow_mut() = input::attach(board.canvas.element(), on_input);

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
        *self.session.borrow_mut() = Session::new(client);
        self.canvas.changed();
        self.save();
        self.after_change();
    }

    fn set_status(&self, status: ConnStatus) {
        if self.ui.status.get_untracked() != status {
            self.ui.status.set(status);
        }
    }

    // ---- the user's side ----------------------------------------------------

    /// Adds a shape of `kind` at a free spot and selects it.
    pub fn add_shape(&self, kind: ShapeKind) {
        let Ok(id) = ShapeId::parse(random_id()) else { return };
        let (x, y) = self.session.borrow().view().free_spot(kind);
        if self.submit(Change::Create { shape: Shape { id: id.clone(), kind, x, y } }) {
            *self.selected.borrow_mut() = Some(id);
            self.after_change();
        }
    }

    /// Deletes the selected shape; returns whether there was one.
    pub fn delete_selected(&self) -> bool {
        let Some(id) = self.selected.borrow_mut().take() else { return false };
        self.submit(Change::Delete { id });
        self.after_change();
        true
    }

    fn on_input(&self, input: Input) -> bool {
        match input {
            Input::Press { x, y } => self.press(x, y),
            Input::PointerMove { x, y } => self.pointer_move(x, y),
            Input::Release => {
                self.release();
                false
            }
            Input::Nudge { dx, dy } => self.nudge(dx, dy),
            Input::Delete => self.delete_selected(),
            Input::ClearSelection => {
                let had = self.selected.borrow_mut().take().is_some();
                self.after_change();
                had
            }
            Input::Resized => {
                self.canvas.fit();
                self.invalidate();
                false
            }
            Input::Network(event) => {
                self.connection.network_changed(event);
                false
            }
        }
    }

    /// Moves the selection by (`dx`, `dy`), stopping at the board's edge.
    /// Returns whether something was selected (the key was for the board).
    fn nudge(&self, dx: f64, dy: f64) -> bool {
        let Some(shape) = self.selected_shape() else { return false };
        let (x, y) = clamp_to_board(shape.kind, shape.x + dx, shape.y + dy);
        if (x, y) != (shape.x, shape.y) {
            self.submit(Change::Move { id: shape.id, x, y });
        }
        true
    }

    /// A press on the canvas: select what is under it (or nothing) and get
    /// ready to drag it. Returns whether a shape was hit.
    fn press(&self, x: f64, y: f64) -> bool {
        let hit = self.session.borrow().view().hit_test(x, y).cloned();
        let grabbed = hit.is_some();
        *self.drag.borrow_mut() =
            hit.as_ref().map(|s| Drag { id: s.id.clone(), grab: (x - s.x, y - s.y), target: None });
        *self.selected.borrow_mut() = hit.map(|s| s.id);
        self.after_change();
        grabbed
    }

    /// The pointer moved: a drag follows it (the move is sent at the next
    /// frame, so a drag streams at the display's rate however fast the pointer
    /// reports); otherwise, says whether a shape is under it, for the cursor.
    fn pointer_move(&self, x: f64, y: f64) -> bool {
        let mut drag = self.drag.borrow_mut();
        let Some(drag) = drag.as_mut() else {
            return self.session.borrow().view().hit_test(x, y).is_some();
        };
        drag.target = Some((x - drag.grab.0, y - drag.grab.1));
        self.invalidate();
        true
    }

    fn release(&self) {
        self.flush_drag();
        *self.drag.borrow_mut() = None;
        self.invalidate();
    }

    // ---- internals -----------------------------------------------------------

    fn selected_shape(&self) -> Option<Shape> {
        let selected = self.selected.borrow();
        self.session.borrow().view().get(selected.as_ref()?).cloned()
    }

    /// Applies a change locally and sends it if connected; otherwise it waits
    /// in the session and is sent after the next answer to hello.
    fn submit(&self, change: Change) -> bool {
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
        if let Some(msg) = outgoing {
            self.connection.send(msg.to_json());
        }
        self.after_change();
        true
    }

    /// Keeps the unconfirmed changes across a reload of the tab.
    fn save(&self) {
        saved::store(&self.room, &self.session.borrow().saved());
    }

    fn flush_drag(&self) {
        let target = self.drag.borrow_mut().as_mut().and_then(|d| d.target.take().map(|t| (d.id.clone(), t)));
        let Some((id, (x, y))) = target else { return };
        let Some(kind) = self.session.borrow().view().get(&id).map(|s| s.kind) else {
            // Someone deleted it mid-drag.
            *self.drag.borrow_mut() = None;
            return;
        };
        let (x, y) = clamp_to_board(kind, x, y);
        self.submit(Change::Move { id, x, y });
    }

    /// Something visible changed: keep the selection valid and redraw soon.
    fn after_change(&self) {
        let gone = {
            let selected = self.selected.borrow();
            selected.as_ref().is_some_and(|id| self.session.borrow().view().get(id).is_none())
        };
        if gone {
            *self.selected.borrow_mut() = None;
            *self.drag.borrow_mut() = None;
        }
        self.invalidate();
    }

    /// Asks for a redraw at the next animation frame (once, however often called).
    fn invalidate(&self) {
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
        self.canvas.draw(session.view(), selected.as_ref());
        // Signals notify on every `set`, so only set what changed.
        let pending = session.pending();
        if self.ui.pending.get_untracked() != pending {
            self.ui.pending.set(pending);
        }
        if self.ui.has_selection.get_untracked() != selected.is_some() {
            self.ui.has_selection.set(selected.is_some());
        }
        // Mid-drag the list would change every frame for nobody's benefit
        // (and re-render the page with it); it catches up on release.
        if self.drag.borrow().is_none() {
            describe::update(self.ui.lines, session.view(), selected.as_ref());
        }
    }
}

/// The connection's side: the board answers for the session.
impl Owner for LiveBoard {
    fn hello(&self) -> String {
        self.session.borrow_mut().hello().to_json()
    }

    fn receive(&self, text: &str) -> Verdict {
        let pending_before = self.session.borrow().pending();
        let event = self.session.borrow_mut().receive_text(text);
        // A move, confirmed or someone else's, changes that one shape only
        // (pending changes on others still apply on top); anything else may
        // change anything.
        match &event {
            Event::Applied { change: Change::Move { id, .. }, .. } => self.canvas.moved(id),
            Event::Members(_) | Event::TurnedAway { .. } => {}
            _ => self.canvas.changed(),
        }
        let verdict = match event {
            Event::Joined { members, resend, .. } => {
                for msg in resend {
                    self.connection.send(msg.to_json());
                }
                self.ui.members.set(members);
                self.refusal.set(None);
                self.set_status(ConnStatus::Connected);
                Verdict::Joined
            }
            Event::Applied { .. } => Verdict::Continue,
            Event::Members(members) => {
                self.ui.members.set(members);
                Verdict::Continue
            }
            Event::Refused { code, message, .. } => {
                leptos::logging::warn!("the server refused a message ({code:?}): {message}");
                Verdict::Continue
            }
            Event::TurnedAway { code, message } => {
                // The server closes the connection next; retries find a place
                // as soon as there is one.
                leptos::logging::warn!("{message}");
                self.refusal.set((code == ErrorCode::RoomFull).then_some(ConnStatus::RoomFull));
                Verdict::Continue
            }
            Event::Resync(e) => {
                leptos::logging::warn!("resynchronising: {e}");
                Verdict::Reconnect
            }
            Event::Outdated(why) => {
                leptos::logging::error!("{why}: reload needed");
                Verdict::Stop
            }
        };
        if self.session.borrow().pending() != pending_before {
            self.save();
        }
        self.after_change();
        verdict
    }

    fn lost(&self, online: bool) {
        self.session.borrow_mut().disconnected();
        let status = match self.refusal.get() {
            _ if !online => ConnStatus::Offline,
            Some(refusal) => refusal,
            None => ConnStatus::Reconnecting,
        };
        self.set_status(status);
    }

    fn stopped(&self) {
        self.session.borrow_mut().disconnected();
        self.set_status(ConnStatus::Outdated);
    }
}

fn new_client_id() -> Result<ClientId, JsValue> {
    ClientId::parse(random_id()).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// 128 random bits as hex, from the browser's cryptographic generator (which,
/// unlike `crypto.randomUUID`, also works on plain-http LAN addresses).
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn socket_url(room: &RoomName) -> Result<String, JsValue> {
    let location = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?.location();
    let scheme = if location.protocol()? == "https:" { "wss" } else { "ws" };
    Ok(format!("{scheme}://{}/ws/{room}", location.host()?))
}
