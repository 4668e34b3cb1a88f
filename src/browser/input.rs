//! Pointer and keyboard input for the live board, and the window events it
//! cares about (resizing, the network coming and going), turned into `Input`s
//! for whoever listens: this module knows the DOM, not the board. Which key
//! does what is the shared editor's (`sketchboard_core::editor::keys`); fingers that
//! pinch are tracked here (zooming and panning the view is not editing).
//!
//! Pointer events (so mouse, pen and touch all work) on the canvas; keys on
//! the window, so they work without clicking into anything first, but never
//! while the user is typing in a field.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlCanvasElement, HtmlTextAreaElement, KeyboardEvent, MouseEvent, PointerEvent};

use super::canvas::to_board;
use super::connection::Network;
use sketchboard_core::editor::KeyPress;

/// What the user (or the browser) did, in board units.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Input {
    /// The main button went down on the board; with Shift held, `add`.
    Press {
        x: f64,
        y: f64,
        add: bool,
    },
    /// The pointer moved, pressed or not, with Shift and Alt as held.
    PointerMove {
        x: f64,
        y: f64,
        shift: bool,
        alt: bool,
    },
    /// The pointer left the board.
    PointerLeave,
    /// Two fingers on the board: their midpoint moved from `from` to `to`,
    /// their spread changed by `ratio` (on the whole sheet's scale).
    Pinch {
        from: (f64, f64),
        to: (f64, f64),
        ratio: f64,
    },
    /// The press ended (or was taken away).
    Release,
    /// A second finger made the press a pinch: a selection rectangle it began
    /// is undone (a drag keeps what it moved).
    Cancel,
    /// A key went down, not in a text field. The handler says whether the
    /// page's own action for it must be stopped.
    Key(KeyPress),
    /// Two clicks on the board: write in the shape there, or in a new text box.
    DoubleClick {
        x: f64,
        y: f64,
    },
    /// The text field's value changed (`composing`: an input method is
    /// still composing it).
    Typed {
        composing: bool,
    },
    /// Escape in the text field (`to_board`: the focus goes back to the
    /// board), Tab, or the field lost the focus to something else on the page.
    StopWriting {
        to_board: bool,
    },
    /// The field lost the focus to the board: a press there ends writing by
    /// itself (the editor), but on a touch screen the focus moves after the
    /// tap that began writing, and the field must take it back.
    FieldToBoard,
    Resized,
    Network(Network),
}

/// Handles one input; true when it landed on something: a press grabbed a
/// shape, a move is over one, a key is the board's (and must not also scroll
/// the page).
pub(super) type Handler = Rc<dyn Fn(Input) -> bool>;

/// Fingers on the board, for pinches: where each is (in sheet units), and
/// whether a pinch is on (from a second finger down until the last one lifts:
/// a finger left behind does not start dragging).
#[derive(Default)]
struct Touches {
    at: Vec<(i32, (f64, f64))>,
    pinching: bool,
}

impl Touches {
    /// The first two fingers' midpoint and distance.
    fn spread(&self) -> Option<((f64, f64), f64)> {
        let [(_, a), (_, b), ..] = self.at.as_slice() else { return None };
        Some((((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0), (a.0 - b.0).hypot(a.1 - b.1)))
    }
}

fn is_touch(e: &PointerEvent) -> bool {
    e.pointer_type() == "touch"
}

/// Listens for input until the returned listeners are dropped.
pub(super) fn attach(canvas: &HtmlCanvasElement, handle: Handler) -> Vec<EventListener> {
    let active = EventListenerOptions::enable_prevent_default();
    let mut listeners = Vec::new();
    let touches = Rc::new(RefCell::new(Touches::default()));

    let (h, el, fingers) = (handle.clone(), canvas.clone(), touches.clone());
    listeners.push(EventListener::new_with_options(canvas, "pointerdown", active, move |e| {
        let Some(e) = e.dyn_ref::<PointerEvent>() else { return };
        if e.button() != 0 {
            return;
        }
        let (x, y) = to_board(&el, e.client_x().into(), e.client_y().into());
        if is_touch(e) {
            let mut t = fingers.borrow_mut();
            t.at.retain(|(id, _)| *id != e.pointer_id());
            t.at.push((e.pointer_id(), (x, y)));
            if t.at.len() >= 2 || t.pinching {
                // A second finger: a pinch, and whatever the first began ends.
                let started = !std::mem::replace(&mut t.pinching, true);
                drop(t);
                if started {
                    h(Input::Cancel);
                }
                e.prevent_default();
                return;
            }
        }
        if h(Input::Press { x, y, add: e.shift_key() }) {
            // Keep receiving moves even when the pointer leaves the canvas.
            let _ = el.set_pointer_capture(e.pointer_id());
        }
        e.prevent_default();
    }));

    let (h, el, fingers) = (handle.clone(), canvas.clone(), touches.clone());
    listeners.push(EventListener::new(canvas, "pointermove", move |e| {
        let Some(e) = e.dyn_ref::<PointerEvent>() else { return };
        let (x, y) = to_board(&el, e.client_x().into(), e.client_y().into());
        if is_touch(e) {
            let mut t = fingers.borrow_mut();
            let before = t.spread();
            if let Some(finger) = t.at.iter_mut().find(|(id, _)| *id == e.pointer_id()) {
                finger.1 = (x, y);
            }
            if t.pinching {
                let after = t.spread();
                drop(t);
                if let (Some((from, d0)), Some((to, d1))) = (before, after)
                    && d0 > 0.0
                {
                    h(Input::Pinch { from, to, ratio: d1 / d0 });
                }
                return;
            }
        }
        h(Input::PointerMove { x, y, shift: e.shift_key(), alt: e.alt_key() });
    }));

    let (h, el) = (handle.clone(), canvas.clone());
    listeners.push(EventListener::new(canvas, "dblclick", move |e| {
        let Some(e) = e.dyn_ref::<MouseEvent>() else { return };
        let (x, y) = to_board(&el, e.client_x().into(), e.client_y().into());
        h(Input::DoubleClick { x, y });
    }));

    let h = handle.clone();
    listeners.push(EventListener::new(canvas, "pointerleave", move |_| {
        h(Input::PointerLeave);
    }));

    for kind in ["pointerup", "pointercancel", "lostpointercapture"] {
        let (h, fingers) = (handle.clone(), touches.clone());
        listeners.push(EventListener::new(canvas, kind, move |e| {
            if kind != "lostpointercapture"
                && let Some(e) = e.dyn_ref::<PointerEvent>()
            {
                let mut t = fingers.borrow_mut();
                t.at.retain(|(id, _)| *id != e.pointer_id());
                t.pinching &= !t.at.is_empty();
            }
            // A press the browser took over (a scroll, a system gesture) is no click.
            h(if kind == "pointercancel" { Input::Cancel } else { Input::Release });
        }));
    }

    let Some(window) = web_sys::window() else { return listeners };

    let h = handle.clone();
    listeners.push(EventListener::new_with_options(&window, "keydown", active, move |e| {
        let Some(e) = e.dyn_ref::<KeyboardEvent>() else { return };
        if is_typing(e) {
            return;
        }
        // Tab cycles through the shapes only on the board itself.
        let on_board = e.target().and_then(|t| t.dyn_into::<Element>().ok()).is_some_and(|t| t.tag_name() == "CANVAS");
        let press = KeyPress {
            key: e.key(),
            shift: e.shift_key(),
            ctrl: e.ctrl_key(),
            meta: e.meta_key(),
            alt: e.alt_key(),
            on_board,
        };
        if h(Input::Key(press)) {
            e.prevent_default();
        }
    }));

    for (name, event) in [("online", Network::Online), ("offline", Network::Offline)] {
        let h = handle.clone();
        listeners.push(EventListener::new(&window, name, move |_| {
            h(Input::Network(event));
        }));
    }

    listeners.push(EventListener::new(&window, "resize", move |_| {
        handle(Input::Resized);
    }));

    listeners
}

/// Listens to the text field over a shape being written in.
pub(super) fn attach_field(field: &HtmlTextAreaElement, handle: Handler) -> Vec<EventListener> {
    let mut listeners = Vec::new();
    for (name, composing) in [("input", None), ("compositionstart", Some(true)), ("compositionend", Some(false))] {
        let h = handle.clone();
        listeners.push(EventListener::new(field, name, move |e| {
            let composing =
                composing.unwrap_or_else(|| e.dyn_ref::<web_sys::InputEvent>().is_some_and(|e| e.is_composing()));
            h(Input::Typed { composing });
        }));
    }
    let h = handle.clone();
    listeners.push(EventListener::new(field, "keydown", move |e| {
        match e.dyn_ref::<KeyboardEvent>().map(KeyboardEvent::key).as_deref() {
            Some("Escape") => {
                h(Input::StopWriting { to_board: true });
            }
            // The focus moves on as usual, and writing ends first.
            Some("Tab") => {
                h(Input::StopWriting { to_board: false });
            }
            _ => {}
        }
    }));
    listeners.push(EventListener::new(field, "blur", move |e| {
        // Another window took the focus: writing goes on when it comes back.
        if web_sys::window().and_then(|w| w.document()).is_some_and(|d| !d.has_focus().unwrap_or(true)) {
            return;
        }
        // Read by name: a binding of `FocusEvent` of its own would cost the bundle more.
        let to = js_sys::Reflect::get(e, &"relatedTarget".into()).ok();
        let to_board = to.and_then(|t| t.dyn_into::<Element>().ok()).is_some_and(|t| t.tag_name() == "CANVAS");
        handle(if to_board { Input::FieldToBoard } else { Input::StopWriting { to_board: false } });
    }));
    listeners
}

/// Whether the key went to something the user types in.
fn is_typing(e: &Event) -> bool {
    let Some(target) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return false };
    matches!(target.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        || target.closest("[contenteditable]:not([contenteditable=false])").ok().flatten().is_some()
}
