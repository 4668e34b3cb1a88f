//! Where the editor's changes go (`Document`), where copies wait
//! (`Clipboard`), where new ids come from (`NewId`), how wide text is
//! (`Measure`), and what it says changed
//! since it was last asked (`Dirty`).

use crate::model::{Board, Change, Shape, ShapeId, TextSize};

/// Where the editor's changes go: the board as this tab shows it, and a way
/// to change it. The browser's implements it over its `Session` (applied at
/// once, sent to the room); a bare `Board` implements it for tests.
pub trait Document {
    /// The board as this tab shows it.
    fn view(&self) -> &Board;
    /// Applies `change` here and sends it on; false if the board refused it
    /// (then nothing changed).
    fn submit(&mut self, change: Change) -> bool;
}

impl Document for Board {
    fn view(&self) -> &Board {
        self
    }

    fn submit(&mut self, change: Change) -> bool {
        self.apply(&change).is_ok()
    }
}

/// Where copied shapes wait for a paste (in the browser, its `localStorage`,
/// shared by its tabs and rooms). Only the key commands use it: the toolbar's
/// `copy` and `paste` hand the shapes over directly.
pub trait Clipboard {
    fn write(&mut self, shapes: &[Shape]);
    /// What was copied, if anything readable.
    fn read(&mut self) -> Option<Vec<Shape>>;
}

/// A clipboard in memory: `None` until something is copied.
impl Clipboard for Option<Vec<Shape>> {
    fn write(&mut self, shapes: &[Shape]) {
        *self = Some(shapes.to_vec());
    }

    fn read(&mut self) -> Option<Vec<Shape>> {
        self.clone()
    }
}

/// Makes a new, unused shape id (the browser: 128 random bits).
pub type NewId = Box<dyn FnMut() -> ShapeId>;

/// How wide a line of text is drawn at a text size, in board units (the
/// browser: measured in its font).
pub type Measure = Box<dyn Fn(&str, TextSize) -> f64>;

/// What changed since the editor was last asked (`take_dirty`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dirty {
    /// Something drawn may look different (or a drag waits to be flushed):
    /// draw the next frame.
    pub redraw: bool,
    /// The selection is another one.
    pub selection: bool,
    /// The undo history changed: keep it (across a reload).
    pub history: bool,
}
