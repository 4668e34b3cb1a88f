//! Duplicate, copy and paste. Copies get new ids and go on top; a paste
//! lands where the copied shapes were (so a paste into another room keeps
//! the layout), moved on by `COPY_OFFSET` while that would cover shapes of
//! the same kind exactly (so pasting twice, or in the same room, shows the
//! copies beside the originals), and kept on the board. Each is one batch,
//! one undo step, and selects the new shapes.
//!
//! The clipboard is this browser's `localStorage` (key `sketchboard-clipboard`):
//! shared by all its tabs and rooms, so a copy in one room pastes into another,
//! and read back like any untrusted input (parsed and checked as shapes, at most
//! `MAX_SHAPES` of them, positions clamped). The system clipboard is not used:
//! reading it needs a permission prompt, and shapes are no use to other programs.

use crate::model::{Change, MAX_SHAPES, Shape, ShapeId, clamp_offset, clamp_to_board};

use super::identity::random_id;
use super::live_board::LiveBoard;

/// How far a duplicate (or a paste over its originals) lands from them, in board units.
const COPY_OFFSET: f64 = 24.0;
const CLIPBOARD_KEY: &str = "sketchboard-clipboard";

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

impl LiveBoard {
    /// Copies the selection a little down and to the right, on top, and
    /// selects the copies.
    pub fn duplicate(&self) -> bool {
        let shapes = self.selection();
        if shapes.is_empty() {
            return false;
        }
        let (dx, dy) = clamp_offset(shapes.iter().map(|s| (s.kind, s.x, s.y)), COPY_OFFSET, COPY_OFFSET);
        self.place_copies(shapes, dx, dy);
        true
    }

    /// Puts the selection on the clipboard; whether there was one.
    pub fn copy(&self) -> bool {
        let shapes = self.selection();
        if shapes.is_empty() {
            return false;
        }
        if let (Some(storage), Ok(text)) = (local(), serde_json::to_string(&shapes))
            && let Err(e) = storage.set_item(CLIPBOARD_KEY, &text)
        {
            leptos::logging::warn!("could not copy: {e:?}");
        }
        true
    }

    /// Pastes what the clipboard holds; whether it held shapes.
    pub fn paste(&self) -> bool {
        let text = local().and_then(|s| s.get_item(CLIPBOARD_KEY).ok().flatten());
        let Some(mut shapes) = text.and_then(|t| serde_json::from_str::<Vec<Shape>>(&t).ok()) else {
            return false;
        };
        shapes.truncate(MAX_SHAPES);
        if shapes.is_empty() {
            return false;
        }
        for s in &mut shapes {
            (s.x, s.y) = clamp_to_board(s.kind, s.x, s.y);
        }
        let (mut dx, mut dy) = (0.0, 0.0);
        for _ in 0..20 {
            let covers = {
                let session = self.session.borrow();
                let view = session.view();
                shapes.iter().any(|s| view.shapes().any(|o| o.kind == s.kind && o.x == s.x + dx && o.y == s.y + dy))
            };
            if !covers {
                break;
            }
            (dx, dy) = clamp_offset(shapes.iter().map(|s| (s.kind, s.x, s.y)), dx + COPY_OFFSET, dy + COPY_OFFSET);
        }
        self.place_copies(shapes, dx, dy);
        true
    }

    /// Adds copies of `shapes` moved by (`dx`, `dy`), with new ids, on top
    /// (in their order), as one step, and selects them.
    fn place_copies(&self, shapes: Vec<Shape>, dx: f64, dy: f64) {
        let z = self.session.borrow().view().top_layer();
        let copies: Vec<Shape> = shapes
            .into_iter()
            .filter_map(|s| {
                let id = ShapeId::parse(random_id()).ok()?;
                Some(Shape { id, x: s.x + dx, y: s.y + dy, z, ..s })
            })
            .collect();
        let ids: Vec<ShapeId> = copies.iter().map(|s| s.id.clone()).collect();
        if self.act(copies.into_iter().map(|shape| Change::Create { shape }).collect(), false) {
            *self.selected.borrow_mut() = ids;
            self.after_change();
        }
    }
}
