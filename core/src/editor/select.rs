//! The select tool: a press on a handle of the selection's frame resizes or
//! turns the selection (`handles`); a press on a shape selects it and drags
//! the selection; a press on empty board draws a selection rectangle. Its
//! states are `Idle`, `Dragging`, `Gripping` and `Marquee`; each pointer event
//! moves between them.
//!
//! A drag streams: a pointer move only stores where the pointer is, and
//! `flush` (once per animation frame) sends the moves (or resizes, or turns),
//! as one batch, so the room hears the display's rate however fast the
//! pointer reports, and others see the gesture as it happens. The whole
//! gesture is one undo step, remembered on release.

use std::collections::HashSet;

use crate::model::{Board, Change, ShapeId, clamp_offset};
use crate::undo::Step;

use super::document::Document;
use super::handles::{Frame, Grip};
use super::shared::Shared;
use super::transform::changed;

/// Where the select tool's gesture stands.
#[derive(Default)]
pub(super) enum Select {
    #[default]
    Idle,
    /// Moving the selection: each shape keeps its offset from the pointer.
    Dragging(Drag),
    /// Resizing or turning the selection by a handle.
    Gripping(Gripping),
    /// A selection rectangle.
    Marquee(Marquee),
}

pub(super) struct Gripping {
    grip: Grip,
    /// The pointer's latest position and keys (Shift, Alt), if not acted on yet.
    target: Option<((f64, f64), bool, bool)>,
    step: Step,
}

pub(super) struct Drag {
    /// Each shape and where it was when the drag began.
    from: Vec<(ShapeId, f64, f64)>,
    /// Where the pointer was then.
    start: (f64, f64),
    /// The pointer's latest position, if it has not been acted on yet.
    target: Option<(f64, f64)>,
    /// The whole drag is one undo step: the shapes as they were before.
    step: Step,
}

/// A selection rectangle from `start` to `to`; with `add`, what it touches
/// joins what was selected before (`base`). `before` is the selection before
/// the press, for a press a pinch takes over.
pub(super) struct Marquee {
    start: (f64, f64),
    to: (f64, f64),
    add: bool,
    base: Vec<ShapeId>,
    before: Vec<ShapeId>,
}

/// The rectangle [x0, y0, x1, y1] with corners `a` and `b`.
fn rect(a: (f64, f64), b: (f64, f64)) -> [f64; 4] {
    [a.0.min(b.0), a.1.min(b.1), a.0.max(b.0), a.1.max(b.1)]
}

impl Select {
    pub(super) fn marquee(&self) -> Option<[f64; 4]> {
        match self {
            Select::Marquee(m) => Some(rect(m.start, m.to)),
            _ => None,
        }
    }

    pub(super) fn dragging_shapes(&self) -> bool {
        matches!(self, Select::Dragging(_) | Select::Gripping(_))
    }

    pub(super) fn pressing(&self) -> bool {
        !matches!(self, Select::Idle)
    }

    /// A press. On a shape: select it (with `add`, toggle it in the
    /// selection; on a shape already selected, keep the selection) and get
    /// ready to drag the selection. On empty board: start a selection
    /// rectangle. Returns true: the pointer is the tool's until released.
    pub(super) fn down(&mut self, shared: &mut Shared, doc: &dyn Document, x: f64, y: f64, add: bool) -> bool {
        let board = doc.view();
        if !add {
            let frame = Frame::of(shared.selected.iter().filter_map(|id| board.get(id)));
            if let Some((frame, handle)) = frame.and_then(|f| Some((f, f.handle_at(x, y, shared.pixel)?))) {
                let shapes = shared.selection(board);
                let step = Step::touching(board, shapes.iter().map(|s| &s.id));
                let grip = Grip { handle, frame, from: shapes, start: (x, y) };
                *self = Select::Gripping(Gripping { grip, target: None, step });
                return true;
            }
        }
        let hit = board.hit_test(x, y).map(|s| s.id.clone());
        let before = shared.selected.clone();
        let mut selected = before.clone();
        match &hit {
            Some(id) if add => match selected.iter().position(|s| s == id) {
                Some(at) => {
                    selected.remove(at);
                }
                None => selected.push(id.clone()),
            },
            Some(id) if selected.contains(id) => {}
            Some(id) => selected = vec![id.clone()],
            None if add => {}
            None => selected.clear(),
        }
        shared.select(selected);
        *self = match hit {
            Some(id) if shared.selected.contains(&id) => {
                let shapes = shared.selection(board);
                let step = Step::touching(board, shapes.iter().map(|s| &s.id));
                let from = shapes.into_iter().map(|s| (s.id, s.x, s.y)).collect();
                Select::Dragging(Drag { from, start: (x, y), target: None, step })
            }
            // Shift+click took it out of the selection: nothing to drag.
            Some(_) => Select::Idle,
            None => {
                let base = shared.selected.clone();
                Select::Marquee(Marquee { start: (x, y), to: (x, y), add, base, before })
            }
        };
        true
    }

    /// The pointer moved: a drag follows it (sent at the next `flush`), a
    /// selection rectangle grows; otherwise, says whether a shape is under
    /// it, for the cursor.
    pub(super) fn moved(&mut self, shared: &mut Shared, board: &Board, x: f64, y: f64) -> bool {
        match self {
            Select::Idle => board.hit_test(x, y).is_some(),
            Select::Dragging(drag) => {
                drag.target = Some((x, y));
                shared.dirty.redraw = true;
                true
            }
            Select::Gripping(g) => {
                g.target = Some(((x, y), shared.keys.shift, shared.keys.alt));
                shared.dirty.redraw = true;
                true
            }
            Select::Marquee(m) => {
                m.to = (x, y);
                let area = rect(m.start, m.to);
                let base: HashSet<&ShapeId> = if m.add { m.base.iter().collect() } else { HashSet::new() };
                let mut chosen = if m.add { m.base.clone() } else { Vec::new() };
                // Ids on a board are unique: only the base can repeat one.
                chosen.extend(board.shapes().filter(|s| s.meets(area) && !base.contains(&s.id)).map(|s| s.id.clone()));
                shared.select(chosen);
                false
            }
        }
    }

    /// The press ended: a drag sends its last position and becomes one undo step.
    pub(super) fn up(&mut self, shared: &mut Shared, doc: &mut dyn Document) {
        self.flush(shared, doc);
        let step = match std::mem::take(self) {
            Select::Dragging(drag) => Some(drag.step),
            Select::Gripping(g) => Some(g.step),
            _ => None,
        };
        if let Some(step) = step {
            shared.remember(step.finish(doc.view()), false);
        }
        shared.prune(doc.view());
    }

    /// A pinch took the press over: a selection rectangle selects nothing and
    /// clears nothing; a drag keeps what it moved.
    pub(super) fn cancel(&mut self, shared: &mut Shared, doc: &mut dyn Document) {
        if let Select::Marquee(m) = self {
            let before = std::mem::take(&mut m.before);
            *self = Select::Idle;
            shared.select(before);
        }
        self.up(shared, doc);
    }

    /// Sends the drag's latest position, if it has not been sent.
    pub(super) fn flush(&mut self, shared: &mut Shared, doc: &mut dyn Document) {
        if let Select::Gripping(g) = self {
            let Some((at, keep, centred)) = g.target.take() else { return };
            let view = doc.view();
            // Shapes someone deleted mid-gesture drop out of it.
            g.grip.from.retain(|s| view.get(&s.id).is_some());
            let changes = changed(view, g.grip.changes(at, keep, centred));
            shared.send_parts(doc, changes);
            return;
        }
        let Select::Dragging(drag) = self else { return };
        let Some((x, y)) = drag.target.take() else { return };
        let view = doc.view();
        // Shapes someone deleted mid-drag drop out of it.
        drag.from.retain(|(id, ..)| view.get(id).is_some());
        let boxes = drag.from.iter().filter_map(|(id, fx, fy)| view.get(id).map(|s| [*fx, *fy, s.w, s.h]));
        let (dx, dy) = clamp_offset(boxes, x - drag.start.0, y - drag.start.1);
        let moves = drag.from.iter().map(|(id, fx, fy)| Change::Move { id: id.clone(), x: fx + dx, y: fy + dy });
        let moves = moves.collect();
        shared.send_parts(doc, moves);
    }

    /// Shapes left the selection with the board: a drag of the selection ends
    /// where it is (what it moved stays moved).
    pub(super) fn selection_lost(&mut self) {
        if let Select::Dragging(_) = self {
            *self = Select::Idle;
        }
    }

    /// Forgets the gesture, acting on nothing.
    pub(super) fn abandon(&mut self) {
        *self = Select::Idle;
    }
}
