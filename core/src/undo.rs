//! One person's undo and redo: I/O-free, shared by the browser and the tests.
//!
//! A step remembers, for each shape an action touched, the shape before and
//! after it (`None`: not on the board). Undoing a step makes new, ordinary
//! changes (sent, ordered and recorded like any other, so everyone sees the
//! undo), computed against the board as it is now, by these rules:
//!
//! - a shape you created is deleted, wherever others have moved it since;
//! - a shape you deleted comes back as it was (same id, place, colour and
//!   layer: on top of that layer), unless it is on the board again;
//! - text you wrote is erased and text you erased comes back, character by
//!   character, wherever others have written since (their characters stay);
//! - a position, size, rotation, text size, colour or layer you set goes back
//!   to what it was (each property on its own), but only if
//!   nobody has set it since (`observe` hears of others' changes) and it is
//!   still what you set: if someone changed it since, theirs stays (one
//!   exception: a size you set back that no longer fits where someone moved
//!   the shape moves it the least that keeps it on the board);
//! - a shape someone else deleted since stays deleted.
//!
//! Undoing makes a step of its own, from what it actually changed, for redo
//! (and redoing one for undo); a new action clears what could be redone.

use serde::{Deserialize, Serialize};

use crate::model::text::Chars;
use crate::model::{Board, Change, Run, Shape, ShapeId, Text, clamp_to_board};

/// The most steps kept; older ones are forgotten.
pub const MAX_STEPS: usize = 100;

/// A shape before and after a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Touched {
    id: ShapeId,
    before: Option<Shape>,
    after: Option<Shape>,
    /// What others have set on the shape since (`MOVED`, `RESIZED`,
    /// `ROTATED`, `COLORED`, `LAYERED`): theirs now, so not undone, even if they set it to the
    /// very value this step did.
    #[serde(default)]
    taken: u8,
}

const MOVED: u8 = 1;
const COLORED: u8 = 2;
const LAYERED: u8 = 4;
const RESIZED: u8 = 8;
const ROTATED: u8 = 16;
const TEXT_SIZED: u8 = 32;

/// What one action did.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Step {
    touched: Vec<Touched>,
}

impl Step {
    /// The step `change` is about to make to `board`: call before applying
    /// it, then `finish` with the board after.
    pub fn before(board: &Board, change: &Change) -> Step {
        Step::touching(board, change.parts().iter().filter_map(Change::shape_id))
    }

    /// A step about to touch these shapes (a drag: many moves, one step).
    pub fn touching<'a>(board: &Board, ids: impl IntoIterator<Item = &'a ShapeId>) -> Step {
        let mut touched: Vec<Touched> = Vec::new();
        for id in ids {
            if !touched.iter().any(|t| &t.id == id) {
                touched.push(Touched { id: id.clone(), before: board.get(id).cloned(), after: None, taken: 0 });
            }
        }
        Step { touched }
    }

    /// Records how the touched shapes ended up.
    pub fn finish(mut self, board: &Board) -> Step {
        for t in &mut self.touched {
            t.after = board.get(&t.id).cloned();
        }
        self.touched.retain(|t| t.before != t.after);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.touched.is_empty()
    }

    /// The shapes it touched.
    pub fn ids(&self) -> impl Iterator<Item = &ShapeId> {
        self.touched.iter().map(|t| &t.id)
    }

    /// The changes that take `board` back from this step, by the rules above,
    /// and the step that would take it forward again.
    fn revert(&self, board: &Board) -> (Vec<Change>, Step) {
        let mut changes = Vec::new();
        let mut reverse = Vec::new();
        // Each shape's entry stands alone, so the order is free: forward, so
        // that shapes brought back keep their drawing order among themselves.
        for t in &self.touched {
            let now = board.get(&t.id);
            match (&t.before, &t.after, now) {
                (None, Some(_), Some(now)) => {
                    changes.push(Change::Delete { id: t.id.clone() });
                    reverse.push(Touched { id: t.id.clone(), before: Some(now.clone()), after: None, taken: 0 });
                }
                (Some(before), None, None) => {
                    // Its text comes back whole: a new shape carries no erased characters.
                    let shape = before.with_whole_text();
                    changes.push(Change::Create { shape: shape.clone() });
                    reverse.push(Touched { id: t.id.clone(), before: None, after: Some(shape), taken: 0 });
                }
                (Some(before), Some(after), Some(now)) => {
                    let mut back = now.clone();
                    let ours = |what: u8| t.taken & what == 0;
                    if ours(MOVED) && (now.x, now.y) == (after.x, after.y) && (before.x, before.y) != (after.x, after.y)
                    {
                        (back.x, back.y) = (before.x, before.y);
                    }
                    if ours(RESIZED) && now.size() == after.size() && before.size() != after.size() {
                        // One change for the box: the size back, at the position undo
                        // leaves (a move by someone else since stays), moved the least
                        // that keeps it on the board if it no longer fits there.
                        (back.w, back.h) = before.size();
                        (back.x, back.y) = clamp_to_board(before.size(), back.x, back.y);
                        changes.push(Change::Resize { id: t.id.clone(), x: back.x, y: back.y, w: back.w, h: back.h });
                    } else if (back.x, back.y) != (now.x, now.y) {
                        changes.push(Change::Move { id: t.id.clone(), x: back.x, y: back.y });
                    }
                    if ours(ROTATED) && now.rotation == after.rotation && before.rotation != after.rotation {
                        changes.push(Change::Rotate { id: t.id.clone(), rotation: before.rotation });
                        back.rotation = before.rotation;
                    }
                    if let Some((erase, unerase)) = text_back(&before.text, &after.text, &now.text) {
                        if !erase.is_empty() {
                            back.text.erase(&erase);
                            changes.push(Change::Erase { id: t.id.clone(), chars: erase });
                        }
                        if let Some((chars, text)) = unerase {
                            back.text.unerase(&chars, &text);
                            changes.push(Change::Unerase { id: t.id.clone(), chars, text });
                        }
                    }
                    if ours(TEXT_SIZED) && now.text_size == after.text_size && before.text_size != after.text_size {
                        changes.push(Change::TextSize { id: t.id.clone(), size: before.text_size });
                        back.text_size = before.text_size;
                    }
                    if ours(COLORED) && now.fill() == after.fill() && before.fill() != after.fill() {
                        changes.push(Change::Color { id: t.id.clone(), color: before.fill() });
                        back.color = Some(before.fill());
                    }
                    if ours(LAYERED) && now.z == after.z && before.z != after.z {
                        changes.push(Change::Layer { id: t.id.clone(), z: before.z });
                        back.z = before.z;
                    }
                    if &back != now {
                        // Redo takes it from how undo leaves it back to how it was.
                        reverse.push(Touched {
                            id: t.id.clone(),
                            before: Some(now.clone()),
                            after: Some(back),
                            taken: 0,
                        });
                    }
                }
                // Gone since, or back since: others' work stands.
                _ => {}
            }
        }
        (changes, Step { touched: reverse })
    }
}

/// Characters to bring back, and what they were.
type Unerased = (Vec<Run>, String);

/// What takes a text from how a step left it (`after`) back to how it found
/// it (`before`), character by character, where it still is as the step left
/// it (`now`): what the step wrote and is still there is erased, what it
/// erased and is still erased comes back. Others' characters are never
/// touched. None when the step did nothing to the text.
fn text_back(before: &Text, after: &Text, now: &Text) -> Option<(Vec<Run>, Option<Unerased>)> {
    if before == after {
        return None;
    }
    let was = Chars::of(before.shown_chars());
    let left = Chars::ids(after.shown_ids());
    // In the order the characters stand now, so runs stay long.
    let (mut erase, mut unerase, mut back) = (Vec::new(), Vec::new(), String::new());
    for (id, shown) in now.all_ids() {
        match (was.get(id), left.contains(id), shown) {
            (None, true, true) => erase.push(id),
            (Some(ch), false, false) => {
                unerase.push(id);
                back.push(ch);
            }
            _ => {}
        }
    }
    let unerase = (!unerase.is_empty()).then(|| (Text::runs_of(&unerase), back));
    Some((Text::runs_of(&erase), unerase))
}

/// One tab's undo and redo stacks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct History {
    undo: Vec<Step>,
    redo: Vec<Step>,
}

impl History {
    pub fn new() -> History {
        History::default()
    }

    /// Records an action's step; a new action clears what could be redone.
    /// With `merge`, a step that touched exactly the shapes of the last one
    /// joins it (a burst of arrow-key moves is one step).
    pub fn push(&mut self, step: Step, merge: bool) {
        if step.is_empty() {
            return;
        }
        self.redo.clear();
        if merge
            && let Some(last) = self.undo.last_mut()
            && last.ids().eq(step.ids())
        {
            for (kept, newer) in last.touched.iter_mut().zip(step.touched) {
                if let (Some(before), Some(after), Some(found)) = (&mut kept.before, &kept.after, &newer.before)
                    && found.text != after.text
                {
                    // Others' letters came between the two: they are not this
                    // step's. The step now starts from the text as the newer
                    // part found it, the older part's own letters taken back.
                    let mut was = found.text.clone();
                    if let Some((erase, unerase)) = text_back(&before.text, &after.text, &was) {
                        was.erase(&erase);
                        if let Some((chars, text)) = unerase {
                            was.unerase(&chars, &text);
                        }
                    }
                    before.text = was;
                }
                kept.after = newer.after;
            }
            last.touched.retain(|t| t.before != t.after);
            if last.is_empty() {
                self.undo.pop();
            }
            return;
        }
        self.undo.push(step);
        if self.undo.len() > MAX_STEPS {
            self.undo.remove(0);
        }
    }

    /// Someone else's change, as it reached this tab: what it sets on a
    /// shape is theirs from now on, and no step of this tab undoes it.
    pub fn observe(&mut self, change: &Change) {
        for part in change.parts() {
            let what = match part {
                Change::Move { .. } => MOVED,
                Change::Resize { .. } => MOVED | RESIZED,
                Change::Rotate { .. } => ROTATED,
                Change::TextSize { .. } => TEXT_SIZED,
                Change::Color { .. } => COLORED,
                Change::Layer { .. } => LAYERED,
                _ => continue,
            };
            let Some(id) = part.shape_id() else { continue };
            for step in self.undo.iter_mut().chain(self.redo.iter_mut()) {
                for t in step.touched.iter_mut().filter(|t| &t.id == id) {
                    t.taken |= what;
                }
            }
        }
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// The change that undoes the last step on `board` (none if others have
    /// changed everything it did since); the step moves to the redo stack.
    pub fn undo(&mut self, board: &Board) -> Option<Change> {
        Self::revert_last(&mut self.undo, &mut self.redo, board)
    }

    /// The change that redoes the last undone step on `board`.
    pub fn redo(&mut self, board: &Board) -> Option<Change> {
        Self::revert_last(&mut self.redo, &mut self.undo, board)
    }

    /// Reverts the last step of `from` on `board`; what would take it forward
    /// again goes onto `to`.
    fn revert_last(from: &mut Vec<Step>, to: &mut Vec<Step>, board: &Board) -> Option<Change> {
        let step = from.pop()?;
        let (changes, reverse) = step.revert(board);
        if !reverse.is_empty() {
            to.push(reverse);
        }
        Change::from_parts(changes)
    }

    /// Forgets a step that could not be applied after all (the board refused
    /// the change `undo` or `redo` made, say because it filled up meanwhile).
    pub fn forget_last_redo(&mut self) {
        self.redo.pop();
    }

    /// As `forget_last_redo`, for a redo that could not be applied.
    pub fn forget_last_undo(&mut self) {
        self.undo.pop();
    }
}
