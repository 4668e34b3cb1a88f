//! The Text tool (key T) and the text boxes it makes, as in Excalidraw and
//! tldraw: a click on empty board starts a text box there (the click at the
//! start of its first line) and writing in it; a click on a shape writes in
//! that shape instead. Either way the select tool is back after the click.
//! A double-click with the select tool does the same (`write_at`).
//!
//! A text box fits its text: each time its writer types, its size follows
//! (`lettering::fitted`, lines measured by the `Measure` the browser gives,
//! with its font), in the same change and the same undo step as the letters,
//! keeping its top-left corner where it is. The first typing in a new box
//! joins the step that made it, so one undo takes back the box and its text;
//! and a box left empty when writing stops is deleted, leaving nothing in the
//! history if it never held anything.

use crate::lettering::{PAD, fitted};
use crate::model::frame::turn;
use crate::model::{Change, Shape, ShapeId, ShapeKind, TextSize, clamp_to_board};

use super::document::Document;
use super::machine::{Editor, ToolKind};

impl Editor {
    /// The Text tool's click at (`x`, `y`), or a double-click there: writes
    /// in the shape there, or in a new text box there; the select tool is
    /// back. Whether writing began.
    pub fn write_at(&mut self, doc: &mut dyn Document, x: f64, y: f64) -> bool {
        self.choose_tool(ToolKind::Select);
        if let Some(id) = doc.view().hit_test(x, y).map(|s| s.id.clone()) {
            return self.start_writing(doc, &id);
        }
        // Before the new box's step: a box left empty goes without a trace.
        self.stop_writing(doc);
        let id = (self.shared.new_id)();
        let (w, h) = fitted("", TextSize::M, &self.shared.measure);
        let (x, y) = clamp_to_board((w, h), (x - PAD).round(), (y - h / 2.0).round());
        let shape = Shape {
            w,
            h,
            color: self.shared.color,
            z: doc.view().top_layer(),
            ..Shape::new(id.clone(), ShapeKind::Text, x, y)
        };
        if !self.shared.act(doc, vec![Change::Create { shape }], false) {
            return false;
        }
        let started = self.start_writing(doc, &id);
        if let Some(writing) = &mut self.shared.writing {
            (writing.fresh, writing.owns_empty) = (true, true);
        }
        started
    }

    /// A double-click at (`x`, `y`): as `write_at`, unless it is on a handle
    /// of the selection's frame (which may lie over empty board). Whether
    /// writing began.
    pub fn double_click(&mut self, doc: &mut dyn Document, x: f64, y: f64) -> bool {
        if self.handle_at(doc.view(), x, y).is_some() {
            return false;
        }
        self.write_at(doc, x, y)
    }

    /// The change that fits text box `id` to `text` at `size` (none if it is
    /// not a text box, or fits already), its turned top-left corner kept.
    pub(super) fn fit(&self, doc: &dyn Document, id: &ShapeId, text: &str, size: TextSize) -> Option<Change> {
        let shape = doc.view().get(id).filter(|s| s.kind == ShapeKind::Text)?;
        let (w, h) = fitted(text, size, &self.shared.measure);
        if (w, h) == shape.size() {
            return None;
        }
        // The corner as drawn stays: the new box's centre is that far from it, turned.
        let corner = turn((shape.x, shape.y), shape.centre(), shape.rotation);
        let centre = turn((corner.0 + w / 2.0, corner.1 + h / 2.0), corner, shape.rotation);
        let (x, y) = clamp_to_board((w, h), centre.0 - w / 2.0, centre.1 - h / 2.0);
        Some(Change::Resize { id: id.clone(), x, y, w, h })
    }
}
