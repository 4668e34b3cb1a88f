//! Import: a board file (`docs/format.md`), chosen with the Import button or
//! dropped on the board, is added as new shapes on top of the board, as one
//! change (one batch, sent in parts when large) and one undo step,
//! and selected. The server reads and checks the file first (`POST
//! /api/board-file`, `format::parse`), which keeps the reader out of the
//! bundle: a bad one changes nothing and the page says what is wrong with it.

use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::identity::new_shape_id;
use super::live_board::LiveBoard;
use serde::Deserialize;
use sketchboard_core::format::{self, MAX_FILE_BYTES};
use sketchboard_core::model::{MAX_SHAPES, Shape};

impl LiveBoard {
    /// Adds `shapes` (a board file's, as the server read it); what happened, in words.
    pub(crate) fn import(&self, shapes: Vec<Shape>) -> Result<String, String> {
        if self.view_only || self.looking_at_history() {
            return Err("Nothing can be imported here.".into());
        }
        let shapes = {
            let session = self.session.borrow();
            let board = session.view();
            format::place(shapes, board, new_shape_id).map_err(|_| {
                format!("Import failed: the board holds {} shapes, and at most {MAX_SHAPES}.", board.len())
            })?
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
            let shapes = match read(&file).await {
                Ok(text) => parse(text).await,
                Err(e) => Err(e),
            };
            let Some(board) = board.upgrade() else { return };
            let said = shapes.and_then(|shapes| board.import(shapes)).unwrap_or_else(|e| e);
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
        return Err(format!(
            "Import failed: the file is {size} bytes; a board file is at most {MAX_FILE_BYTES} bytes."
        ));
    }
    let text = JsFuture::from(file.text()).await.map_err(|e: JsValue| format!("The file could not be read: {e:?}"))?;
    Ok(text.as_string().unwrap_or_default())
}

/// What the server answers for a board file: its shapes, or what is wrong.
#[derive(Deserialize)]
struct Read {
    #[serde(default)]
    shapes: Vec<Shape>,
    #[serde(default)]
    error: Option<String>,
}

/// The shapes of board file `text`, as the server reads them.
async fn parse(text: String) -> Result<Vec<Shape>, String> {
    let failed = |e: JsValue| format!("Import failed: the server could not be asked ({e:?}).");
    let window = web_sys::window().ok_or("Import failed: no window.")?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&text));
    let request = window.fetch_with_str_and_init("/api/board-file", &init);
    let response: web_sys::Response = JsFuture::from(request).await.map_err(failed)?.dyn_into().map_err(failed)?;
    let body = JsFuture::from(response.text().map_err(failed)?).await.map_err(failed)?.as_string().unwrap_or_default();
    let read: Read = serde_json::from_str(&body)
        .map_err(|_| format!("Import failed: the server answered {}.", response.status()))?;
    match read.error {
        Some(why) => Err(format!("Import failed: {why}.")),
        None => Ok(read.shapes),
    }
}
