//! The clipboard Copy and Paste use (`sketchboard_core::editor::Clipboard`): this
//! browser's `localStorage` (key `sketchboard-clipboard`), shared by all its
//! tabs and rooms, so a copy in one room pastes into another. What is read
//! back is untrusted input: parsed and checked as shapes here, then limited
//! and clamped onto the board by the editor. The system clipboard is not
//! used: reading it needs a permission prompt, and shapes are no use to other
//! programs.

use sketchboard_core::editor::Clipboard;
use sketchboard_core::model::Shape;

const CLIPBOARD_KEY: &str = "sketchboard-clipboard";

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub(super) struct LocalClipboard;

impl Clipboard for LocalClipboard {
    fn write(&mut self, shapes: &[Shape]) {
        if let (Some(storage), Ok(text)) = (local(), serde_json::to_string(shapes))
            && let Err(e) = storage.set_item(CLIPBOARD_KEY, &text)
        {
            leptos::logging::warn!("could not copy: {e:?}");
        }
    }

    fn read(&mut self) -> Option<Vec<Shape>> {
        let text = local()?.get_item(CLIPBOARD_KEY).ok().flatten()?;
        serde_json::from_str(&text).ok()
    }
}
