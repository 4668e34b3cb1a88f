//! Where new shapes go: a shape added from the toolbar (the first free spot
//! in reading order, in the colour last chosen), a duplicate (`COPY_OFFSET`
//! down and to the right), a paste (where the copied shapes were, so a paste
//! into another room keeps the layout; moved on by `COPY_OFFSET` while that
//! would cover shapes of the same kind exactly, so pasting twice, or into the
//! same room, shows the copies beside the originals), an import. All go on
//! top, get new ids, stay on the board, are one batch and one undo step, and
//! become the selection.
//!
//! Copy itself hands the selection to the caller, which keeps it where it
//! likes (the browser: `localStorage`), and pasted shapes come back from there
//! like any untrusted input: at most `MAX_SHAPES` of them, positions clamped.

use crate::model::{Change, MAX_SHAPES, Shape, ShapeId, ShapeKind, clamp_offset, clamp_to_board};

use super::document::Document;
use super::machine::Editor;

/// How far a duplicate (or a paste over its originals) lands from them, in board units.
pub(super) const COPY_OFFSET: f64 = 24.0;
/// How many times a paste moves on past copies it would cover before it
/// settles where it is.
const PASTE_TRIES: usize = 20;

impl Editor {
    /// Adds a shape of `kind` at a free spot, in the colour last chosen, on
    /// top of everything, and selects it; whether the board took it.
    pub fn add_shape(&mut self, doc: &mut dyn Document, kind: ShapeKind) -> bool {
        let id = (self.shared.new_id)();
        let view = doc.view();
        let (x, y) = view.free_spot(kind);
        let shape = Shape { color: self.shared.color, z: view.top_layer(), ..Shape::new(id.clone(), kind, x, y) };
        self.add(doc, vec![shape])
    }

    /// Copies the selection a little down and to the right (as far as the
    /// board allows), on top, and selects the copies; whether there was one.
    pub fn duplicate(&mut self, doc: &mut dyn Document) -> bool {
        let shapes = self.shared.selection(doc.view());
        if shapes.is_empty() {
            return false;
        }
        let (dx, dy) = clamp_offset(shapes.iter().map(Shape::frame), COPY_OFFSET, COPY_OFFSET);
        self.place_copies(doc, shapes, dx, dy);
        true
    }

    /// The selected shapes, in drawing order, for the clipboard; none when
    /// nothing is selected.
    pub fn copy(&self, doc: &dyn Document) -> Option<Vec<Shape>> {
        Some(self.shared.selection(doc.view())).filter(|shapes| !shapes.is_empty())
    }

    /// Pastes `shapes` (what a copy gave, read back from wherever it was
    /// kept); whether there were any.
    pub fn paste(&mut self, doc: &mut dyn Document, mut shapes: Vec<Shape>) -> bool {
        shapes.truncate(MAX_SHAPES);
        if shapes.is_empty() {
            return false;
        }
        for s in &mut shapes {
            (s.x, s.y) = clamp_to_board(s.size(), s.x, s.y);
        }
        let (dx, dy) = paste_offset(doc.view(), &shapes);
        self.place_copies(doc, shapes, dx, dy);
        true
    }

    /// Adds `shapes` as they are (read from a board file, with new ids
    /// already), as one step, and selects them; whether the board took them.
    pub fn import(&mut self, doc: &mut dyn Document, shapes: Vec<Shape>) -> bool {
        self.add(doc, shapes)
    }

    /// Makes the live board look like a version from history by `changes`
    /// (`changes_between`), as one step; whether there was anything to do and
    /// the board took it.
    pub fn restore(&mut self, doc: &mut dyn Document, changes: Vec<Change>) -> bool {
        let done = self.shared.act(doc, changes, false);
        self.settle();
        done
    }

    /// Adds copies of `shapes` moved by (`dx`, `dy`), with new ids, on top
    /// (in their order), as one step, and selects them.
    fn place_copies(&mut self, doc: &mut dyn Document, shapes: Vec<Shape>, dx: f64, dy: f64) -> bool {
        let z = doc.view().top_layer();
        let copies = shapes
            .into_iter()
            .map(|s| Shape { id: (self.shared.new_id)(), x: s.x + dx, y: s.y + dy, z, ..s.with_whole_text() })
            .collect();
        self.add(doc, copies)
    }

    /// Creates `shapes` as one step and, if the board took them, selects them.
    fn add(&mut self, doc: &mut dyn Document, shapes: Vec<Shape>) -> bool {
        let ids: Vec<ShapeId> = shapes.iter().map(|s| s.id.clone()).collect();
        let done = self.shared.act(doc, shapes.into_iter().map(|shape| Change::Create { shape }).collect(), false);
        if done {
            self.shared.select(ids);
        }
        self.settle();
        done
    }
}

/// How far to move `shapes` (already on the board's sheet) so that none
/// covers a shape of its kind on `board` exactly: `COPY_OFFSET` at a time, as
/// far as the board allows, at most `PASTE_TRIES` times.
fn paste_offset(board: &crate::model::Board, shapes: &[Shape]) -> (f64, f64) {
    let (mut dx, mut dy) = (0.0, 0.0);
    for _ in 0..PASTE_TRIES {
        let covers =
            shapes.iter().any(|s| board.shapes().any(|o| o.kind == s.kind && o.x == s.x + dx && o.y == s.y + dy));
        if !covers {
            break;
        }
        (dx, dy) = clamp_offset(shapes.iter().map(Shape::frame), dx + COPY_OFFSET, dy + COPY_OFFSET);
    }
    (dx, dy)
}
