//! The live board: one per open room page, in the browser only.
//!
//! It owns the tab's replica of the board, the selection and any drag in
//! progress; input handlers call into it, the connection feeds it the server's
//! messages, and it redraws the canvas (at most once per animation frame, and
//! only when something changed) and updates the page's signals.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use futures::channel::{mpsc, oneshot};
use leptos::prelude::{GetUntracked, Set, request_animation_frame};
use wasm_bindgen::JsValue;

use super::canvas::Canvas;
use super::connection;
use super::describe;
use super::identity;
use super::input;
use super::pages::{BoardUi, ConnStatus};
use super::saved;
use crate::model::{Change, ClientId, Replica, RoomName, Shape, ShapeId, ShapeKind, clamp_to_board};
use crate::protocol::{ClientMsg, ErrorCode, Position, ServerMsg};

/// Board units an arrow key moves the selection; with Shift, `BIG_STEP`.
pub const STEP: f64 = 10.0;
pub const BIG_STEP: f64 = 50.0;

/// What the browser says about its network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    Online,
    Offline,
}

/// What the connection should do after a server message.
pub enum Incoming {
    Ok,
    Welcome,
    /// This copy cannot be trusted any more: reconnect for a fresh snapshot.
    Resync,
    /// The server will not talk to this version of the page.
    Refused,
}

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
    /// This tab's id for the server: random, kept across reconnects (and
    /// reloads, see `saved`) so the room can tell which of our changes it has.
    /// Replaced only at start, if another page turns out to use it (`identity`).
    client: RefCell<ClientId>,
    /// The room incarnation our replica's board comes from (from the welcome).
    epoch: Cell<u64>,
    /// Why the server last turned this tab away (room full), shown while retrying.
    refusal: Cell<Option<ConnStatus>>,
    replica: RefCell<Replica>,
    selected: RefCell<Option<ShapeId>>,
    drag: RefCell<Option<Drag>>,
    canvas: Canvas,
    ui: BoardUi,
    /// Where to send messages while connected and welcomed.
    outbox: RefCell<Option<mpsc::UnboundedSender<String>>>,
    frame_requested: Cell<bool>,
    listeners: RefCell<Vec<gloo_events::EventListener>>,
    stop: RefCell<Option<oneshot::Sender<()>>>,
    /// The browser's online/offline events, for the connection.
    network: mpsc::UnboundedSender<Network>,
}

impl LiveBoard {
    pub fn start(room: RoomName, el: web_sys::HtmlCanvasElement, ui: BoardUi) -> Result<Rc<LiveBoard>, JsValue> {
        let saved = saved::load(&room);
        let restored = saved.is_some();
        let (client, replica) = match saved {
            Some(saved) => (saved.client, Replica::restore(saved.unsent)),
            None => (new_client_id()?, Replica::new()),
        };
        let url = socket_url(&room)?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let (network_tx, network_rx) = mpsc::unbounded();
        let canvas = Canvas::new(el)?;
        let board = Rc::new_cyclic(|me| LiveBoard {
            me: me.clone(),
            room,
            client: RefCell::new(client),
            epoch: Cell::new(0),
            refusal: Cell::new(None),
            replica: RefCell::new(replica),
            selected: RefCell::new(None),
            drag: RefCell::new(None),
            canvas,
            ui,
            outbox: RefCell::new(None),
            frame_requested: Cell::new(false),
            listeners: RefCell::new(Vec::new()),
            stop: RefCell::new(Some(stop_tx)),
            network: network_tx,
        });
        *board.listeners.borrow_mut() = input::attach(&board);
        let weak = Rc::downgrade(&board);
        wasm_bindgen_futures::spawn_local(async move {
            // A restored id is checked before it is used (see `identity`).
            if restored && let Some(b) = weak.upgrade() {
                let (room, client) = (b.room.clone(), b.client.borrow().clone());
                drop(b);
                if !identity::claim(&room, &client).await
                    && let Some(b) = weak.upgrade()
                {
                    b.start_afresh();
                }
            }
            let Some(b) = weak.upgrade() else { return };
            let me = weak.clone();
            let answering = identity::answer_claims(&b.room, move || me.upgrade().map(|b| b.client.borrow().clone()));
            b.listeners.borrow_mut().extend(answering);
            drop(b);
            connection::run(weak, url, stop_rx, network_rx).await;
        });
        board.invalidate();
        Ok(board)
    }

    /// Another page uses our restored id: take a new one, and leave the
    /// copied unsent changes to that page, which made them.
    fn start_afresh(&self) {
        let Ok(client) = new_client_id() else { return };
        leptos::logging::log!("another tab uses this tab's saved identity: starting afresh");
        *self.client.borrow_mut() = client;
        *self.replica.borrow_mut() = Replica::new();
        self.canvas.changed();
        self.save();
        self.after_change();
    }

    /// Detaches input and closes the connection: the page is going away.
    pub fn stop(&self) {
        self.listeners.borrow_mut().clear();
        if let Some(stop) = self.stop.borrow_mut().take() {
            let _ = stop.send(());
        }
    }

    pub fn canvas(&self) -> &Canvas {
        &self.canvas
    }

    // ---- the connection's side -------------------------------------------

    /// The hello for a new connection: with the `seq` of the board this tab
    /// holds, if it holds one, so the server can send just what it missed.
    pub fn hello(&self) -> String {
        let at = self.replica.borrow().base().map(|seq| Position { epoch: self.epoch.get(), seq });
        encode(&ClientMsg::hello(self.client.borrow().clone(), at))
    }

    pub fn set_status(&self, status: ConnStatus) {
        self.ui.status.set(status);
    }

    /// Called once the server's welcome was applied: resend what it has not
    /// confirmed, then stream new changes as they are made.
    pub fn connected(&self, outbox: mpsc::UnboundedSender<String>) {
        for (op, change) in self.replica.borrow().pending() {
            let _ = outbox.unbounded_send(encode(&ClientMsg::Change { op: *op, change: change.clone() }));
        }
        *self.outbox.borrow_mut() = Some(outbox);
        self.refusal.set(None);
        self.set_status(ConnStatus::Connected);
    }

    /// The browser's network went away or came back.
    pub fn network_changed(&self, event: Network) {
        let _ = self.network.unbounded_send(event);
    }

    pub fn connection_lost(&self) {
        *self.outbox.borrow_mut() = None;
        let online = web_sys::window().map(|w| w.navigator().on_line()).unwrap_or(true);
        let status = match self.refusal.get() {
            _ if !online => ConnStatus::Offline,
            Some(refusal) => refusal,
            None => ConnStatus::Reconnecting,
        };
        self.set_status(status);
    }

    /// Applies one server message.
    pub fn receive(&self, text: &str) -> Incoming {
        let msg: ServerMsg = match serde_json::from_str(text) {
            Ok(msg) => msg,
            Err(e) => {
                // Skipping it would leave this tab silently out of step; a
                // message this page cannot read means the server is newer.
                leptos::logging::error!("a server message this page cannot read ({e}): reload needed");
                return Incoming::Refused;
            }
        };
        let pending_before = self.replica.borrow().pending().len();
        // A move, confirmed or someone else's, changes that one shape only
        // (pending changes on others still apply on top); anything else may
        // change anything.
        match &msg {
            ServerMsg::Applied { change: Change::Move { id, .. }, .. } => self.canvas.moved(id),
            ServerMsg::Presence { .. } => {}
            _ => self.canvas.changed(),
        }
        let outcome = match msg {
            ServerMsg::Welcome { seq, shapes, members, last_op, epoch, .. } => {
                self.epoch.set(epoch);
                self.replica.borrow_mut().reset(seq, shapes, last_op);
                self.ui.members.set(members);
                Incoming::Welcome
            }
            ServerMsg::CatchUp { from, changes, members, last_op, .. } => {
                if let Err(e) = self.replica.borrow_mut().catch_up(from, &changes, last_op) {
                    // The replica no longer vouches for its board, so the next
                    // hello asks for a whole snapshot.
                    leptos::logging::warn!("resynchronising: {e}");
                    return Incoming::Resync;
                }
                self.ui.members.set(members);
                Incoming::Welcome
            }
            ServerMsg::Applied { seq, change, op } => {
                if let Err(e) = self.replica.borrow_mut().applied(seq, op, &change) {
                    leptos::logging::warn!("resynchronising: {e}");
                    return Incoming::Resync;
                }
                Incoming::Ok
            }
            ServerMsg::Presence { members } => {
                self.ui.members.set(members);
                Incoming::Ok
            }
            ServerMsg::Error { code: ErrorCode::VersionMismatch, message, .. } => {
                leptos::logging::warn!("{message}");
                return Incoming::Refused;
            }
            ServerMsg::Error { code: ErrorCode::RoomFull, message, .. } => {
                // The server closes the connection next; retries find a place
                // as soon as someone leaves.
                leptos::logging::warn!("{message}");
                self.refusal.set(Some(ConnStatus::RoomFull));
                Incoming::Ok
            }
            ServerMsg::Error { code, message, op } => {
                leptos::logging::warn!("the server refused a message ({code:?}): {message}");
                if let Some(op) = op {
                    self.replica.borrow_mut().rejected(op);
                }
                Incoming::Ok
            }
        };
        if self.replica.borrow().pending().len() != pending_before {
            self.save();
        }
        self.after_change();
        outcome
    }

    // ---- the user's side ----------------------------------------------------

    /// Adds a shape of `kind` at a free spot and selects it.
    pub fn add_shape(&self, kind: ShapeKind) {
        let Ok(id) = ShapeId::parse(random_id()) else { return };
        let (x, y) = self.replica.borrow().view().free_spot(kind);
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

    /// Moves the selection by (`dx`, `dy`), stopping at the board's edge.
    /// Returns whether something was selected (the key was for the board).
    pub fn nudge(&self, dx: f64, dy: f64) -> bool {
        let Some(shape) = self.selected_shape() else { return false };
        let (x, y) = clamp_to_board(shape.kind, shape.x + dx, shape.y + dy);
        if (x, y) != (shape.x, shape.y) {
            self.submit(Change::Move { id: shape.id, x, y });
        }
        true
    }

    /// Clears the selection; returns whether there was one.
    pub fn clear_selection(&self) -> bool {
        let had = self.selected.borrow_mut().take().is_some();
        self.after_change();
        had
    }

    /// A press on the canvas: select what is under it (or nothing) and get
    /// ready to drag it. Returns whether a shape was hit.
    pub fn press(&self, x: f64, y: f64) -> bool {
        let hit = self.replica.borrow().view().hit_test(x, y).cloned();
        let grabbed = hit.is_some();
        *self.drag.borrow_mut() =
            hit.as_ref().map(|s| Drag { id: s.id.clone(), grab: (x - s.x, y - s.y), target: None });
        *self.selected.borrow_mut() = hit.map(|s| s.id);
        self.after_change();
        grabbed
    }

    /// The pointer moved while pressed. The move is sent at the next frame, so
    /// a drag streams at the display's rate however fast the pointer reports.
    pub fn drag_to(&self, x: f64, y: f64) {
        let mut drag = self.drag.borrow_mut();
        let Some(drag) = drag.as_mut() else { return };
        drag.target = Some((x - drag.grab.0, y - drag.grab.1));
        self.invalidate();
    }

    pub fn release(&self) {
        self.flush_drag();
        *self.drag.borrow_mut() = None;
        self.invalidate();
    }

    pub fn is_dragging(&self) -> bool {
        self.drag.borrow().is_some()
    }

    /// Whether a shape is under the point: for the pointer's cursor.
    pub fn shape_at(&self, x: f64, y: f64) -> bool {
        self.replica.borrow().view().hit_test(x, y).is_some()
    }

    // ---- internals -----------------------------------------------------------

    fn selected_shape(&self) -> Option<Shape> {
        let selected = self.selected.borrow();
        let id = selected.as_ref()?;
        self.replica.borrow().view().get(id).cloned()
    }

    /// Applies a change locally and sends it if connected; when offline it
    /// waits in the replica's pending list and is sent after the next welcome.
    fn submit(&self, change: Change) -> bool {
        let outbox = self.outbox.borrow().clone();
        let made = match outbox {
            Some(_) => self.replica.borrow_mut().local(change.clone()),
            // Not sent until the next connection: a drag may replace its own
            // previous move rather than queue one per frame.
            None => self.replica.borrow_mut().local_unsent(change.clone()),
        };
        let op = match made {
            Ok(op) => op,
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
        if let Some(outbox) = outbox {
            let _ = outbox.unbounded_send(encode(&ClientMsg::Change { op, change }));
        }
        self.after_change();
        true
    }

    /// Keeps the unconfirmed changes across a reload of the tab.
    fn save(&self) {
        let unsent = self.replica.borrow().unsent();
        saved::store(&self.room, &saved::Saved { client: self.client.borrow().clone(), unsent });
    }

    fn flush_drag(&self) {
        let target = self.drag.borrow_mut().as_mut().and_then(|d| d.target.take().map(|t| (d.id.clone(), t)));
        let Some((id, (x, y))) = target else { return };
        let Some(kind) = self.replica.borrow().view().get(&id).map(|s| s.kind) else {
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
            selected.as_ref().is_some_and(|id| self.replica.borrow().view().get(id).is_none())
        };
        if gone {
            *self.selected.borrow_mut() = None;
            *self.drag.borrow_mut() = None;
        }
        self.invalidate();
    }

    /// Asks for a redraw at the next animation frame (once, however often called).
    pub fn invalidate(&self) {
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
        let replica = self.replica.borrow();
        let selected = self.selected.borrow();
        self.canvas.draw(replica.view(), selected.as_ref());
        // Signals notify on every `set`, so only set what changed.
        let pending = replica.pending().len();
        if self.ui.pending.get_untracked() != pending {
            self.ui.pending.set(pending);
        }
        if self.ui.has_selection.get_untracked() != selected.is_some() {
            self.ui.has_selection.set(selected.is_some());
        }
        // Mid-drag the list would change every frame for nobody's benefit
        // (and re-render the page with it); it catches up on release.
        if !self.is_dragging() {
            describe::update(self.ui.lines, replica.view(), selected.as_ref());
        }
    }
}

fn new_client_id() -> Result<ClientId, JsValue> {
    ClientId::parse(random_id()).map_err(|e| JsValue::from_str(&e.to_string()))
}

fn encode(msg: &ClientMsg) -> String {
    // Client messages hold only strings and finite numbers: this cannot fail.
    serde_json::to_string(msg).unwrap_or_default()
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
