//! What a tab keeps across a reload, in its `sessionStorage`: per room, its
//! client id and its changes the server has not confirmed, and its undo
//! history. A tab that goes
//! away while offline, or mid-flight, finds them on its next load and sends
//! them; because the client id comes back too, the server recognises any it
//! already has (`last_op`) and nothing is applied twice.
//!
//! `sessionStorage` belongs to one tab, so two tabs on one room do not share
//! a client id, except a tab the browser duplicates, which gets a copy:
//! `identity` catches that before the id is used.

use sketchboard_core::model::RoomName;
use sketchboard_core::session::Saved;
use sketchboard_core::undo::History;

fn key(room: &RoomName) -> String {
    format!("sketchboard:{room}")
}

fn history_key(room: &RoomName) -> String {
    format!("sketchboard-history:{room}")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// What the last page of this tab left for `room`, if anything readable.
pub(super) fn load(room: &RoomName) -> Option<Saved> {
    let text = storage()?.get_item(&key(room)).ok().flatten()?;
    match serde_json::from_str(&text) {
        Ok(saved) => Some(saved),
        Err(e) => {
            leptos::logging::warn!("ignoring unreadable saved changes: {e}");
            None
        }
    }
}

/// Records the tab's state for `room`. Storage can be full or disabled
/// (private windows); the changes then live in memory only, as before.
pub(super) fn store(room: &RoomName, saved: &Saved) {
    let Some(storage) = storage() else { return };
    let Ok(text) = serde_json::to_string(saved) else { return };
    if let Err(e) = storage.set_item(&key(room), &text) {
        leptos::logging::warn!("could not save unsent changes: {e:?}");
    }
}

/// The undo history this tab left for `room` (empty if none is readable).
pub(super) fn load_history(room: &RoomName) -> History {
    let text = storage().and_then(|s| s.get_item(&history_key(room)).ok().flatten());
    text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

/// Records the tab's undo history for `room`, where storage allows.
pub(super) fn store_history(room: &RoomName, history: &History) {
    let Some(storage) = storage() else { return };
    let Ok(text) = serde_json::to_string(history) else { return };
    let _ = storage.set_item(&history_key(room), &text);
}
