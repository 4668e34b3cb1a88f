//! Import: a board file (`docs/format.md`), chosen with the Import button or
//! dropped on the board, is added as new shapes on top of the board, as one
//! change (one batch, sent in parts when large) and one undo step,
//! and selected. The file is read whole and checked first (`format::read`):
//! a bad one changes nothing and the page says what is wrong with it.

use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::identity::new_shape_id;
use super::live_board::LiveBoard;
use sketchboard_core::format::{self, MAX_FILE_BYTES};

impl LiveBoard {
    /// Adds the shapes of board file `text`; what happened, in words.
    pub(crate) fn import(&self, text: &str) -> Result<String, String> {
        if self.view_only || self.looking_at_history() {
            return Err("Nothing can be imported here.".into());
        }
        let shapes = {
            let session = self.session.borrow();
            format::read(text, session.view(), new_shape_id).map_err(|e| format!("Import failed: {e}."))?
        };
        let count = shapes.len();
        if !self.edit(|e, doc| e.import(doc, shapes)) {
            return Err("Import failed: the board refused the shapes.".into());
        }
        Ok(format!("Imported {count} shape{}.", if count == 1 { "" } else { "s" }))
    }

    /// Reads `file` and imports it, saying how it went in the page's notice.
    pub(crate) fn import_file(self: &Rc<Self>, file: web_sys::File) {
        let board = Rc::downgrade(self);
        wasm_bindgen_futures::spawn_local(async move {
            let text = read(&file).await;
            let Some(board) = board.upgrade() else { return };
            let said = text.and_then(|text| board.import(&text)).unwrap_or_else(|e| e);
            use leptos::prelude::Set;
            board.ui.notice.set(said);
        });
    }

    /// Files dropped on the board are imported.
    pub(super) fn accept_drops(self: &Rc<Self>) -> Vec<gloo_events::EventListener> {
        let el = self.canvas.element().clone();
        let options = gloo_events::EventListenerOptions::enable_prevent_default();
        // Allowing a drop at all takes cancelling dragover.
        let over = gloo_events::EventListener::new_with_options(&el, "dragover", options, |e| e.prevent_default());
        let board = Rc::downgrade(self);
        let drop = gloo_events::EventListener::new_with_options(&el, "drop", options, move |e| {
            e.prevent_default();
            let file = e.dyn_ref::<web_sys::DragEvent>().and_then(|d| d.data_transfer()).and_then(|t| t.files());
            if let (Some(board), Some(file)) = (board.upgrade(), file.and_then(|f| f.get(0))) {
                board.import_file(file);
            }
        });
        vec![over, drop]
    }
}

/// The text of `file`, if it is small enough to be a board file.
async fn read(file: &web_sys::File) -> Result<String, String> {
    let size = file.size() as usize;
    if size > MAX_FILE_BYTES {
        return Err(format!("Import failed: {}.", format::FormatError::TooBig(size)));
    }
    let text = JsFuture::from(file.text()).await.map_err(|e: JsValue| format!("The file could not be read: {e:?}"))?;
    Ok(text.as_string().unwrap_or_default())
}
