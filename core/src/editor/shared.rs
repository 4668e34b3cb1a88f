//! What every tool and command works on besides the board: the selection,
//! the undo history, the colour for new shapes, the nudge burst and the id
//! source; and the bookkeeping that makes each action one change (a batch
//! when it has several parts) and one undo step, keeps the selection to shapes
//! still on the board, and notes what the caller must redraw or keep (`Dirty`).

use std::collections::HashSet;

use crate::model::{Board, Change, CharId, Color, MAX_BATCH, Shape, ShapeId};
use crate::undo::{History, Step};

use super::document::{Dirty, Document, Measure, NewId};

/// Key presses (arrows, Alt+arrows, `<` and `>`) or letters typed closer
/// together than this, of one kind and on the same selection, are one undo step.
pub(super) const NUDGE_BURST_MS: f64 = 1000.0;

/// Writing in shape `id`, as writer `writer`, whose next letter is `next`
/// (`writing`).
pub(super) struct Writing {
    pub(super) id: ShapeId,
    pub(super) writer: u32,
    pub(super) next: u32,
    /// What the text field shows, letter by letter with their ids; `None`
    /// until it is given the shape's text (and after a refused edit).
    pub(super) field: Option<Vec<(CharId, char)>>,
    /// A text box made for this writing that nothing was typed in yet: the
    /// first typing joins the step that made it (`text_box`).
    pub(super) fresh: bool,
    /// This writing made the text box, or typed in it: left empty, it goes
    /// (a box someone else is still writing in is theirs to keep).
    pub(super) owns_empty: bool,
}

/// What every tool and command works on besides the board.
pub(super) struct Shared {
    /// The selected shapes, in the order they were selected.
    pub(super) selected: Vec<ShapeId>,
    pub(super) history: History,
    /// The colour new shapes take: the last one chosen.
    pub(super) color: Option<Color>,
    /// What the last key that moved, resized or turned the selection did,
    /// and when, while a burst of them goes on.
    pub(super) last_burst: Option<(KeyBurst, f64)>,
    pub(super) new_id: NewId,
    pub(super) dirty: Dirty,
    /// Shapes left the selection because they left the board, and the tool
    /// has not heard yet (`Editor::settle`).
    pub(super) lost: bool,
    /// Board units in one screen pixel, for the handles' reach.
    pub(super) pixel: f64,
    /// The shape being written in, if any (`writing`).
    pub(super) writing: Option<Writing>,
    /// The keys held as the pointer last moved.
    pub(super) keys: Held,
    /// How wide text is, for text boxes that fit theirs.
    pub(super) measure: Measure,
}

/// What a burst of key presses does: presses of one kind in a burst are one
/// undo step; another kind starts a step of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyBurst {
    Move,
    Resize,
    Turn,
    Type,
}

/// Modifier keys held during a gesture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    /// Keeps proportions, snaps turns.
    pub shift: bool,
    /// Resizes about the centre.
    pub alt: bool,
}

impl Shared {
    /// Makes `ids` the selection.
    pub(super) fn select(&mut self, ids: Vec<ShapeId>) {
        if self.selected != ids {
            self.selected = ids;
            self.dirty.selection = true;
        }
        self.dirty.redraw = true;
    }

    /// The selected shapes as `board` has them, in drawing order.
    pub(super) fn selection(&self, board: &Board) -> Vec<Shape> {
        // A set: after select-all, a list lookup per shape would be quadratic.
        let selected: HashSet<&ShapeId> = self.selected.iter().collect();
        board.shapes().filter(|s| selected.contains(&s.id)).cloned().collect()
    }

    /// Something visible changed: keep the selection to shapes on `board`.
    pub(super) fn prune(&mut self, board: &Board) {
        let before = self.selected.len();
        self.selected.retain(|id| board.get(id).is_some());
        if self.writing.as_ref().is_some_and(|w| board.get(&w.id).is_none()) {
            self.writing = None;
        }
        if self.selected.len() != before {
            self.lost = true;
            self.dirty.selection = true;
        }
        self.dirty.redraw = true;
    }

    /// Submits one change; whether the board took it.
    pub(super) fn submit(&mut self, doc: &mut dyn Document, change: Change) -> bool {
        let done = doc.submit(change);
        if done {
            self.prune(doc.view());
        }
        done
    }

    /// Submits `parts` as one change (the session sends a large batch in
    /// parts), split only past `MAX_BATCH`, more than any board can call for;
    /// whether the board took them all.
    pub(super) fn send_parts(&mut self, doc: &mut dyn Document, mut parts: Vec<Change>) -> bool {
        let mut all = true;
        while !parts.is_empty() {
            let rest = parts.split_off(parts.len().min(MAX_BATCH));
            if let Some(change) = Change::from_parts(std::mem::replace(&mut parts, rest)) {
                all &= self.submit(doc, change);
            }
        }
        all
    }

    /// Makes `parts` one action: one change and one undo step (with `merge`,
    /// part of the last step if it touched the same shapes). Whether the
    /// board took it all; false for nothing to do.
    pub(super) fn act(&mut self, doc: &mut dyn Document, parts: Vec<Change>, merge: bool) -> bool {
        if parts.is_empty() {
            return false;
        }
        let step = Step::touching(doc.view(), parts.iter().filter_map(Change::shape_id));
        let all = self.send_parts(doc, parts);
        // What did apply is the step, even if a batch of it was refused.
        let step = step.finish(doc.view());
        if !merge {
            self.last_burst = None;
        }
        self.remember(step, merge);
        all
    }

    /// `act`, as part of the last step if an action of the same `kind`
    /// (a key's, or typing) happened less than `NUDGE_BURST_MS` ago on the
    /// same shapes. Whether the board took it all.
    pub(super) fn act_in_burst(
        &mut self,
        doc: &mut dyn Document,
        parts: Vec<Change>,
        kind: KeyBurst,
        now_ms: f64,
    ) -> bool {
        if parts.is_empty() {
            return false;
        }
        let last = self.last_burst.replace((kind, now_ms));
        let burst = last.is_some_and(|(was, then)| was == kind && now_ms - then < NUDGE_BURST_MS);
        let done = self.act(doc, parts, burst);
        self.last_burst = Some((kind, now_ms));
        done
    }

    pub(super) fn remember(&mut self, step: Step, merge: bool) {
        self.history.push(step, merge);
        self.dirty.history = true;
    }
}
