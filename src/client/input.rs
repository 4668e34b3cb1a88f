//! Pointer and keyboard input for the live board, and the window events it
//! cares about (resizing, the network coming back).
//!
//! Pointer events (so mouse, pen and touch all work) on the canvas; keys on
//! the window, so they work without clicking into anything first, but never
//! while the user is typing in a field.

use std::rc::Rc;

use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, KeyboardEvent, PointerEvent};

use super::live_board::{BIG_STEP, LiveBoard, Network, STEP};

pub fn attach(board: &Rc<LiveBoard>) -> Vec<EventListener> {
    let canvas = board.canvas().element().clone();
    let active = EventListenerOptions::enable_prevent_default();
    let mut listeners = Vec::new();

    let b = Rc::downgrade(board);
    let el = canvas.clone();
    listeners.push(EventListener::new_with_options(&canvas, "pointerdown", active, move |e| {
        let (Some(board), Some(e)) = (b.upgrade(), e.dyn_ref::<PointerEvent>()) else { return };
        if e.button() != 0 {
            return;
        }
        let (x, y) = board.canvas().to_board(e.client_x().into(), e.client_y().into());
        if board.press(x, y) {
            // Keep receiving moves even when the pointer leaves the canvas.
            let _ = el.set_pointer_capture(e.pointer_id());
        }
        e.prevent_default();
    }));

    let b = Rc::downgrade(board);
    let el = canvas.clone();
    listeners.push(EventListener::new(&canvas, "pointermove", move |e| {
        let (Some(board), Some(e)) = (b.upgrade(), e.dyn_ref::<PointerEvent>()) else { return };
        let (x, y) = board.canvas().to_board(e.client_x().into(), e.client_y().into());
        if board.is_dragging() {
            board.drag_to(x, y);
        } else {
            let cursor = if board.shape_at(x, y) { "move" } else { "default" };
            let _ = el.style().set_property("cursor", cursor);
        }
    }));

    for kind in ["pointerup", "pointercancel", "lostpointercapture"] {
        let b = Rc::downgrade(board);
        listeners.push(EventListener::new(&canvas, kind, move |_| {
            if let Some(board) = b.upgrade() {
                board.release();
            }
        }));
    }

    let Some(window) = web_sys::window() else { return listeners };

    let b = Rc::downgrade(board);
    listeners.push(EventListener::new_with_options(&window, "keydown", active, move |e| {
        let (Some(board), Some(e)) = (b.upgrade(), e.dyn_ref::<KeyboardEvent>()) else { return };
        if e.ctrl_key() || e.meta_key() || e.alt_key() || is_typing(e) {
            return;
        }
        let step = if e.shift_key() { BIG_STEP } else { STEP };
        let used = match e.key().as_str() {
            "ArrowLeft" => board.nudge(-step, 0.0),
            "ArrowRight" => board.nudge(step, 0.0),
            "ArrowUp" => board.nudge(0.0, -step),
            "ArrowDown" => board.nudge(0.0, step),
            "Delete" | "Backspace" => board.delete_selected(),
            "Escape" => board.clear_selection(),
            _ => false,
        };
        // A key that acted on a shape must not also scroll the page; with
        // nothing selected, arrows scroll as usual.
        if used {
            e.prevent_default();
        }
    }));

    for (name, event) in [("online", Network::Online), ("offline", Network::Offline)] {
        let b = Rc::downgrade(board);
        listeners.push(EventListener::new(&window, name, move |_| {
            if let Some(board) = b.upgrade() {
                board.network_changed(event);
            }
        }));
    }

    let b = Rc::downgrade(board);
    listeners.push(EventListener::new(&window, "resize", move |_| {
        if let Some(board) = b.upgrade() {
            board.canvas().fit();
            board.invalidate();
        }
    }));

    listeners
}

/// Whether the key went to something the user types in.
fn is_typing(e: &Event) -> bool {
    let Some(target) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return false };
    matches!(target.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        || target.closest("[contenteditable]:not([contenteditable=false])").ok().flatten().is_some()
}
