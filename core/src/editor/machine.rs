//! The `Editor`: the active tool (a state machine, as in tldraw's editor) and
//! what every tool shares; the pointer and the frame's questions. Commands
//! and placing add to it (`commands.rs`, `placing.rs`).

use super::document::{Dirty, Document, Measure, NewId};
use super::handles::{Frame, Handle};
use super::select::Select;
use super::shared::{Held, Shared};
use crate::lettering::estimated_width;
use crate::model::{Board, Change, Color, ShapeId};
use crate::undo::History;

/// The active tool and where its gesture stands. A new tool is a new variant.
pub(super) enum Tool {
    Select(Select),
    /// The next click writes there (`text_box`): where it was pressed, until released.
    Text(Option<(f64, f64)>),
}

/// The tools a person can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    Select,
    Text,
}

pub struct Editor {
    pub(super) tool: Tool,
    pub(super) shared: Shared,
}

impl Editor {
    /// An editor with the select tool, nothing selected, `history` to undo
    /// (a reloaded tab's), and `new_id` to name the shapes it makes.
    pub fn new(history: History, new_id: NewId) -> Editor {
        let shared = Shared {
            selected: Vec::new(),
            history,
            color: None,
            last_burst: None,
            new_id,
            dirty: Dirty::default(),
            lost: false,
            pixel: 1.0,
            writing: None,
            keys: Held::default(),
            measure: Box::new(|line, size| estimated_width(line, size.units())),
        };
        Editor { tool: Tool::Select(Select::default()), shared }
    }

    // ---- the tool --------------------------------------------------------------

    /// The tool in hand.
    pub fn tool(&self) -> ToolKind {
        match self.tool {
            Tool::Select(_) => ToolKind::Select,
            Tool::Text(_) => ToolKind::Text,
        }
    }

    /// Takes up `kind` (whatever gesture the last tool had under way ends).
    pub fn choose_tool(&mut self, kind: ToolKind) {
        if self.tool() != kind {
            self.tool = match kind {
                ToolKind::Select => Tool::Select(Select::default()),
                ToolKind::Text => Tool::Text(None),
            };
            self.shared.dirty.redraw = true;
        }
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
            Tool::Text(_) => None,
        }
    }

    /// Whether a press is moving shapes.
    pub fn dragging_shapes(&self) -> bool {
        match &self.tool {
            Tool::Select(s) => s.dragging_shapes(),
            Tool::Text(_) => false,
        }
    }

    /// Whether a gesture is under way (a press not yet released).
    pub fn pressing(&self) -> bool {
        match &self.tool {
            Tool::Select(s) => s.pressing(),
            Tool::Text(_) => false,
        }
    }

    /// The frame the selection's handles sit on (`handles`), as `board` has it.
    pub fn frame(&self, board: &Board) -> Option<Frame> {
        Frame::of(self.shared.selected.iter().filter_map(|id| board.get(id)))
    }

    /// The handle of the selection's frame a press at (`x`, `y`) would grab.
    pub fn handle_at(&self, board: &Board, x: f64, y: f64) -> Option<Handle> {
        self.frame(board)?.handle_at(x, y, self.shared.pixel)
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

    /// How many board units one screen pixel is now (the handles are sized
    /// in pixels). Ignored unless a positive number.
    pub fn set_pixel(&mut self, units: f64) {
        if units.is_finite() && units > 0.0 {
            self.shared.pixel = units;
        }
    }

    /// The modifier keys held as the pointer moves: Shift keeps proportions
    /// and snaps turns, Alt resizes about the centre.
    pub fn hold(&mut self, keys: Held) {
        self.shared.keys = keys;
    }

    /// How wide a line of text is drawn, in board units: the browser
    /// measures with its font (text boxes fit their text by it); until then,
    /// an estimate.
    pub fn set_measure(&mut self, measure: Measure) {
        self.shared.measure = measure;
    }

    /// The main button went down at (`x`, `y`); with Shift, `add`. Returns
    /// whether the pointer is the editor's until released.
    pub fn pointer_down(&mut self, doc: &mut dyn Document, x: f64, y: f64, add: bool) -> bool {
        // A press on the board ends writing (the text field lies over the shape written in).
        self.stop_writing(doc);
        let grabbed = match &mut self.tool {
            Tool::Select(s) => s.down(&mut self.shared, doc, x, y, add),
            Tool::Text(at) => {
                *at = Some((x, y));
                true
            }
        };
        self.settle();
        grabbed
    }

    /// The pointer moved, pressed or not. Returns whether it is over (or
    /// holding) something it can move, for the cursor.
    pub fn pointer_move(&mut self, doc: &mut dyn Document, x: f64, y: f64) -> bool {
        let over = match &mut self.tool {
            Tool::Select(s) => s.moved(&mut self.shared, doc.view(), x, y),
            Tool::Text(_) => false,
        };
        self.settle();
        over
    }

    /// The press ended.
    pub fn pointer_up(&mut self, doc: &mut dyn Document) {
        match &mut self.tool {
            Tool::Select(s) => s.up(&mut self.shared, doc),
            // On release, as a click: the press took the focus from any text field first.
            Tool::Text(at) => {
                if let Some((x, y)) = at.take() {
                    self.write_at(doc, x, y);
                }
            }
        }
        self.settle();
    }

    /// The press was taken over (a second finger made it a pinch): what it
    /// only began is undone (a selection rectangle); what it did stays (a drag).
    pub fn pointer_cancel(&mut self, doc: &mut dyn Document) {
        match &mut self.tool {
            Tool::Select(s) => s.cancel(&mut self.shared, doc),
            Tool::Text(at) => *at = None,
        }
        self.settle();
    }

    /// Sends what the gesture has done since the last call: call once per
    /// animation frame, so a drag streams at the display's rate however fast
    /// the pointer reports (one batch per frame).
    pub fn flush_drag(&mut self, doc: &mut dyn Document) {
        match &mut self.tool {
            Tool::Select(s) => s.flush(&mut self.shared, doc),
            Tool::Text(_) => {}
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
            Tool::Text(_) => {}
        }
        self.choose_tool(ToolKind::Select);
    }

    /// Tells the tool when shapes it may hold left the selection with the board.
    pub(super) fn settle(&mut self) {
        if std::mem::take(&mut self.shared.lost) {
            match &mut self.tool {
                Tool::Select(s) => s.selection_lost(),
                Tool::Text(_) => {}
            }
        }
    }
}
