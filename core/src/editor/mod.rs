//! The editor: the board's editing rules, free of I/O, so that every gesture
//! is tested natively and the browser only maps DOM events in and paints what
//! comes out. Pointer events (in board units), key commands (`keys`) and
//! toolbar commands go in; changes leave through a `Document`, which applies
//! and sends them; and the editor says what the next frame shows (the
//! selection, a selection rectangle, whether undo and redo can act) and what
//! changed since it was last asked (`Dirty`).
//!
//! The active tool is a state machine (`Tool`), as in tldraw's editor: today
//! the select tool alone (`select`: idle, dragging shapes, a selection
//! rectangle). Tools with gestures of their own (pen, line, eraser, hand,
//! text…) join it as new variants, each in a file of its own, without touching
//! the others. What every tool shares (the selection, the undo history, the
//! colour for new shapes) is `Shared`, here, with the bookkeeping that makes
//! each action one change and one undo step (`shared`). Commands on the
//! selection are in `commands`; where new shapes, duplicates and pastes go, in
//! `placing`.
//!
//! The editor reads no clock (the caller passes `now_ms` where time matters)
//! and draws no randomness (new ids come from the generator it is given).

mod commands;
pub mod keys;
mod placing;
mod select;
mod shared;

use crate::model::{Board, Change, Color, Shape, ShapeId};
use crate::undo::History;
use shared::Shared;

pub use commands::Stack;
pub use keys::{Binding, Claim, Command, KeyPress};

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

/// The active tool and where its gesture stands. A new tool is a new variant.
enum Tool {
    Select(select::Select),
}

pub struct Editor {
    tool: Tool,
    shared: Shared,
}

impl Editor {
    /// An editor with the select tool, nothing selected, `history` to undo
    /// (a reloaded tab's), and `new_id` to name the shapes it makes.
    pub fn new(history: History, new_id: NewId) -> Editor {
        let shared = Shared {
            selected: Vec::new(),
            history,
            color: None,
            last_nudge: None,
            new_id,
            dirty: Dirty::default(),
            lost: false,
        };
        Editor { tool: Tool::Select(select::Select::default()), shared }
    }

    // ---- what the frame shows ------------------------------------------------

    /// The selected shapes, in the order they were selected.
    pub fn selection(&self) -> &[ShapeId] {
        &self.shared.selected
    }

    /// The selection rectangle being drawn, as [x0, y0, x1, y1].
    pub fn marquee(&self) -> Option<[f64; 4]> {
        match &self.tool {
            Tool::Select(s) => s.marquee(),
        }
    }

    /// Whether a press is moving shapes.
    pub fn dragging_shapes(&self) -> bool {
        match &self.tool {
            Tool::Select(s) => s.dragging_shapes(),
        }
    }

    /// Whether a gesture is under way (a press not yet released).
    pub fn pressing(&self) -> bool {
        match &self.tool {
            Tool::Select(s) => s.pressing(),
        }
    }

    pub fn can_undo(&self) -> bool {
        self.shared.history.can_undo()
    }

    pub fn can_redo(&self) -> bool {
        self.shared.history.can_redo()
    }

    /// The undo history, to keep across a reload.
    pub fn history(&self) -> &History {
        &self.shared.history
    }

    /// The colour new shapes take (none: each kind's own).
    pub fn color(&self) -> Option<Color> {
        self.shared.color
    }

    /// What changed since the last call.
    pub fn take_dirty(&mut self) -> Dirty {
        std::mem::take(&mut self.shared.dirty)
    }

    // ---- the pointer -----------------------------------------------------------

    /// The main button went down at (`x`, `y`); with Shift, `add`. Returns
    /// whether the pointer is the editor's until released.
    pub fn pointer_down(&mut self, doc: &mut dyn Document, x: f64, y: f64, add: bool) -> bool {
        let grabbed = match &mut self.tool {
            Tool::Select(s) => s.down(&mut self.shared, doc, x, y, add),
        };
        self.settle();
        grabbed
    }

    /// The pointer moved, pressed or not. Returns whether it is over (or
    /// holding) something it can move, for the cursor.
    pub fn pointer_move(&mut self, doc: &mut dyn Document, x: f64, y: f64) -> bool {
        let over = match &mut self.tool {
            Tool::Select(s) => s.moved(&mut self.shared, doc.view(), x, y),
        };
        self.settle();
        over
    }

    /// The press ended.
    pub fn pointer_up(&mut self, doc: &mut dyn Document) {
        match &mut self.tool {
            Tool::Select(s) => s.up(&mut self.shared, doc),
        }
        self.settle();
    }

    /// The press was taken over (a second finger made it a pinch): what it
    /// only began is undone (a selection rectangle); what it did stays (a drag).
    pub fn pointer_cancel(&mut self, doc: &mut dyn Document) {
        match &mut self.tool {
            Tool::Select(s) => s.cancel(&mut self.shared, doc),
        }
        self.settle();
    }

    /// Sends what the gesture has done since the last call: call once per
    /// animation frame, so a drag streams at the display's rate however fast
    /// the pointer reports (one batch per frame).
    pub fn flush_drag(&mut self, doc: &mut dyn Document) {
        match &mut self.tool {
            Tool::Select(s) => s.flush(&mut self.shared, doc),
        }
        self.settle();
    }

    // ---- the world -------------------------------------------------------------

    /// The board changed under the editor (others' changes, a resync): shapes
    /// gone leave the selection, and a drag of the selection ends.
    pub fn board_changed(&mut self, board: &Board) {
        self.shared.prune(board);
        self.settle();
    }

    /// Someone else's change reached this tab: undo leaves what it set alone.
    pub fn observe(&mut self, change: &Change) {
        self.shared.history.observe(change);
    }

    /// Starts the undo history afresh (the tab took a new identity).
    pub fn reset_history(&mut self) {
        self.shared.history = History::new();
        self.shared.dirty.history = true;
    }

    /// Drops the selection and any gesture without acting on them: the board
    /// is replaced by one that cannot be edited (a version from history).
    pub fn interrupt(&mut self) {
        self.shared.select(Vec::new());
        match &mut self.tool {
            Tool::Select(s) => s.abandon(),
        }
    }

    /// Tells the tool when shapes it may hold left the selection with the board.
    fn settle(&mut self) {
        if std::mem::take(&mut self.shared.lost) {
            match &mut self.tool {
                Tool::Select(s) => s.selection_lost(),
            }
        }
    }
}

#[cfg(test)]
mod tests;
