//! The live board's user side: what each input and toolbar command does to
//! the board. Commands act on the whole selection, and each becomes one
//! change for the session (a batch when it touches several shapes, however
//! many: a full board's worth fits `MAX_BATCH`) and one step of the tab's undo history
//! (`history` in the shared core, which decides what undoing may touch).

use std::collections::HashSet;

use crate::history::Step;
use crate::model::{Change, Color, MAX_BATCH, Shape, ShapeId, ShapeKind, clamp_offset};

use super::identity::random_id;
use super::input::Input;
use super::live_board::{Drag, LiveBoard, rect};

/// Arrow-key presses closer together than this, on the same selection, are
/// one undo step.
const NUDGE_BURST_MS: f64 = 1000.0;

/// A layer command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    ToFront,
    ToBack,
}

impl LiveBoard {
    /// Adds a shape of `kind` at a free spot, in the colour last chosen, on
    /// top of everything, and selects it.
    pub fn add_shape(&self, kind: ShapeKind) {
        let Ok(id) = ShapeId::parse(random_id()) else { return };
        let (x, y, z) = {
            let session = self.session.borrow();
            let (x, y) = session.view().free_spot(kind);
            (x, y, session.view().top_layer())
        };
        let shape = Shape { color: self.color.get(), z, ..Shape::new(id.clone(), kind, x, y) };
        if self.act(vec![Change::Create { shape }], false) {
            *self.selected.borrow_mut() = vec![id];
            self.after_change();
        }
    }

    /// Deletes the selection; returns whether there was one.
    pub fn delete_selected(&self) -> bool {
        let ids = std::mem::take(&mut *self.selected.borrow_mut());
        if ids.is_empty() {
            return false;
        }
        self.act(ids.into_iter().map(|id| Change::Delete { id }).collect(), false);
        self.after_change();
        true
    }

    /// Chooses the colour for new shapes, and gives it to the selection.
    pub fn set_color(&self, color: Color) {
        self.color.set(Some(color));
        let parts = self.selection().into_iter().filter(|s| s.fill() != color);
        self.act(parts.map(|s| Change::Color { id: s.id, color }).collect(), false);
    }

    /// Brings the selection to the front, or sends it to the back, keeping
    /// the order of its shapes among themselves.
    pub fn restack(&self, to: Stack) -> bool {
        let shapes = self.selection();
        if shapes.is_empty() {
            return false;
        }
        let (z, already) = {
            let session = self.session.borrow();
            let view = session.view();
            let n = shapes.len();
            let edge: HashSet<&ShapeId> = match to {
                Stack::ToFront => view.shapes().rev().take(n).map(|s| &s.id).collect(),
                Stack::ToBack => view.shapes().take(n).map(|s| &s.id).collect(),
            };
            let already = shapes.iter().all(|s| edge.contains(&s.id));
            let z = match to {
                Stack::ToFront => view.top_layer() + 1,
                Stack::ToBack => view.bottom_layer() - 1,
            };
            (z, already)
        };
        if !already {
            self.act(shapes.into_iter().map(|s| Change::Layer { id: s.id, z }).collect(), false);
        }
        true
    }

    /// Selects the next shape up (or, `back`, down) the drawing order from
    /// the last one selected, alone. Past either end, clears the selection and
    /// returns false, so Tab leaves the board rather than trap the keyboard.
    fn cycle(&self, back: bool) -> bool {
        let next = {
            let session = self.session.borrow();
            let ids: Vec<&ShapeId> = session.view().shapes().map(|s| &s.id).collect();
            let current = self.selected.borrow().last().and_then(|c| ids.iter().position(|id| *id == c));
            let at = match (current, back) {
                (None, false) => (!ids.is_empty()).then_some(0),
                (None, true) => ids.len().checked_sub(1),
                (Some(i), false) => (i + 1 < ids.len()).then_some(i + 1),
                (Some(i), true) => i.checked_sub(1),
            };
            at.map(|i| ids[i].clone())
        };
        let found = next.is_some();
        *self.selected.borrow_mut() = next.into_iter().collect();
        self.after_change();
        found
    }

    /// Selects every shape.
    pub fn select_all(&self) -> bool {
        *self.selected.borrow_mut() = self.session.borrow().view().shapes().map(|s| s.id.clone()).collect();
        self.after_change();
        true
    }

    /// Undoes this tab's last step; whether there was one.
    pub fn undo(&self) -> bool {
        let change = self.history.borrow_mut().undo(self.session.borrow().view());
        self.after_history(change, true)
    }

    /// Redoes the last undone step; whether there was one.
    pub fn redo(&self) -> bool {
        let change = self.history.borrow_mut().redo(self.session.borrow().view());
        self.after_history(change, false)
    }

    pub(super) fn on_input(&self, input: Input) -> bool {
        // A view-only board may be looked at (zoomed, pointed at), never edited.
        let looking = matches!(
            input,
            Input::PointerMove { .. } | Input::PointerLeave | Input::Pinch { .. } | Input::Resized | Input::Network(_)
        );
        if self.view_only && !looking {
            return false;
        }
        // A version from history is only looked at: not even pointed at
        // (others would see a pointer over a board they do not have).
        if self.looking_at_history() && !matches!(input, Input::Pinch { .. } | Input::Resized | Input::Network(_)) {
            return false;
        }
        match input {
            Input::Press { x, y, add } => {
                let (x, y) = self.canvas.under(x, y);
                self.press(x, y, add)
            }
            Input::PointerMove { x, y } => {
                let (x, y) = self.canvas.under(x, y);
                self.here.pointer(Some((x, y)));
                self.flush_presence();
                self.pointer_move(x, y)
            }
            Input::Pinch { from, to, ratio } => {
                self.canvas.pinch(from, to, ratio);
                self.invalidate();
                true
            }
            Input::PointerLeave => {
                self.here.pointer(None);
                self.flush_presence();
                false
            }
            Input::Release => {
                self.release();
                false
            }
            Input::Cancel => {
                // A press on empty board that turned into a pinch selects nothing, clears nothing.
                if let Some(Drag::Marquee { before, .. }) =
                    self.drag.borrow_mut().take_if(|d| matches!(d, Drag::Marquee { .. }))
                {
                    *self.selected.borrow_mut() = before;
                }
                self.release();
                false
            }
            Input::Nudge { dx, dy } => self.nudge(dx, dy),
            Input::Delete => self.delete_selected(),
            Input::ClearSelection => {
                let had = !std::mem::take(&mut *self.selected.borrow_mut()).is_empty();
                self.after_change();
                had
            }
            Input::Undo => self.undo(),
            Input::Redo => self.redo(),
            Input::ToFront => self.restack(Stack::ToFront),
            Input::ToBack => self.restack(Stack::ToBack),
            Input::SelectAll => self.select_all(),
            Input::Duplicate => self.duplicate(),
            Input::Copy => self.copy(),
            Input::Cycle { back } => self.cycle(back),
            Input::Paste => self.paste(),
            Input::Resized => {
                self.canvas.fit();
                self.invalidate();
                false
            }
            Input::Network(event) => {
                self.connection.network_changed(event);
                false
            }
        }
    }

    /// Moves the selection by (`dx`, `dy`), as a group, stopping at the
    /// board's edge. Returns whether something was selected (the key was for
    /// the board).
    fn nudge(&self, dx: f64, dy: f64) -> bool {
        let shapes = self.selection();
        if shapes.is_empty() {
            return false;
        }
        let (dx, dy) = clamp_offset(shapes.iter().map(|s| (s.kind, s.x, s.y)), dx, dy);
        if (dx, dy) != (0.0, 0.0) {
            let now = js_sys::Date::now();
            let burst = self.last_nudge.replace(Some(now)).is_some_and(|then| now - then < NUDGE_BURST_MS);
            let moves = shapes.into_iter().map(|s| Change::Move { id: s.id, x: s.x + dx, y: s.y + dy }).collect();
            self.act(moves, burst);
            self.last_nudge.set(Some(now));
        }
        true
    }

    /// A press on the canvas. On a shape: select it (with `add`, toggle it in
    /// the selection; on a shape already selected, keep the selection) and get
    /// ready to drag the selection. On empty board: start a selection
    /// rectangle. Returns true: the pointer is the board's until released.
    fn press(&self, x: f64, y: f64, add: bool) -> bool {
        let hit = self.session.borrow().view().hit_test(x, y).map(|s| s.id.clone());
        let before = self.selected.borrow().clone();
        {
            let mut selected = self.selected.borrow_mut();
            match &hit {
                Some(id) if add => match selected.iter().position(|s| s == id) {
                    Some(at) => {
                        selected.remove(at);
                    }
                    None => selected.push(id.clone()),
                },
                Some(id) if selected.contains(id) => {}
                Some(id) => *selected = vec![id.clone()],
                None if add => {}
                None => selected.clear(),
            }
        }
        let drag = match hit {
            Some(id) if self.selected.borrow().contains(&id) => {
                let shapes = self.selection();
                let step = Step::touching(self.session.borrow().view(), shapes.iter().map(|s| &s.id));
                let from = shapes.into_iter().map(|s| (s.id, s.x, s.y)).collect();
                Some(Drag::Shapes { from, start: (x, y), target: None, step })
            }
            Some(_) => None,
            None => {
                let base = self.selected.borrow().clone();
                Some(Drag::Marquee { start: (x, y), to: (x, y), add, base, before })
            }
        };
        *self.drag.borrow_mut() = drag;
        self.after_change();
        true
    }

    /// The pointer moved: a drag follows it (the moves are sent at the next
    /// frame, so a drag streams at the display's rate however fast the pointer
    /// reports), a selection rectangle grows; otherwise, says whether a shape
    /// is under it, for the cursor.
    fn pointer_move(&self, x: f64, y: f64) -> bool {
        let mut drag = self.drag.borrow_mut();
        match drag.as_mut() {
            None => self.session.borrow().view().hit_test(x, y).is_some(),
            Some(Drag::Shapes { target, .. }) => {
                *target = Some((x, y));
                self.invalidate();
                true
            }
            Some(Drag::Marquee { start, to, add, base, .. }) => {
                *to = (x, y);
                let area = rect(*start, *to);
                let session = self.session.borrow();
                let mut chosen = if *add { base.clone() } else { Vec::new() };
                let mut seen: HashSet<ShapeId> = chosen.iter().cloned().collect();
                for s in session.view().shapes().filter(|s| s.meets(area)) {
                    if seen.insert(s.id.clone()) {
                        chosen.push(s.id.clone());
                    }
                }
                *self.selected.borrow_mut() = chosen;
                self.invalidate();
                false
            }
        }
    }

    fn release(&self) {
        self.flush_drag();
        if let Some(Drag::Shapes { step, .. }) = self.drag.borrow_mut().take() {
            let step = step.finish(self.session.borrow().view());
            self.remember(step, false);
        }
        self.after_change();
    }

    /// The selected shapes as the board has them, in drawing order.
    pub(super) fn selection(&self) -> Vec<Shape> {
        let selected = self.selected.borrow();
        // A set: after select-all, a list lookup per shape would be quadratic.
        let selected: HashSet<&ShapeId> = selected.iter().collect();
        self.session.borrow().view().shapes().filter(|s| selected.contains(&s.id)).cloned().collect()
    }

    /// Sends the drag's latest position, if it has not been sent.
    pub(super) fn flush_drag(&self) {
        let moves = {
            let mut drag = self.drag.borrow_mut();
            let Some(Drag::Shapes { from, start, target, .. }) = drag.as_mut() else { return };
            let Some((x, y)) = target.take() else { return };
            let session = self.session.borrow();
            let view = session.view();
            // Shapes someone deleted mid-drag drop out of it.
            from.retain(|(id, ..)| view.get(id).is_some());
            let kinds = from.iter().filter_map(|(id, fx, fy)| Some((view.get(id)?.kind, *fx, *fy)));
            let (dx, dy) = clamp_offset(kinds, x - start.0, y - start.1);
            from.iter().map(|(id, fx, fy)| Change::Move { id: id.clone(), x: fx + dx, y: fy + dy }).collect::<Vec<_>>()
        };
        self.send_parts(moves);
    }

    /// Sends `parts` as one change (the session sends a large batch in
    /// parts), split only past `MAX_BATCH`, more than any board can call
    /// for; whether the board took them all.
    fn send_parts(&self, mut parts: Vec<Change>) -> bool {
        let mut all = true;
        while !parts.is_empty() {
            let rest = parts.split_off(parts.len().min(MAX_BATCH));
            if let Some(change) = Change::from_parts(std::mem::replace(&mut parts, rest)) {
                all &= self.submit(change);
            }
        }
        all
    }

    /// Makes `parts` one action: one undo step (with `merge`, part of the
    /// last one if it touched the same shapes).
    pub(super) fn act(&self, parts: Vec<Change>, merge: bool) -> bool {
        if parts.is_empty() {
            return false;
        }
        let step = Step::touching(self.session.borrow().view(), parts.iter().filter_map(Change::shape_id));
        let all = self.send_parts(parts);
        // What did apply is the step, even if a batch of it was refused.
        let step = step.finish(self.session.borrow().view());
        if !merge {
            self.last_nudge.set(None);
        }
        self.remember(step, merge);
        all
    }

    fn remember(&self, step: Step, merge: bool) {
        self.history.borrow_mut().push(step, merge);
        self.save_history();
    }

    /// Sends what an undo or redo made; a change the board refuses (it filled
    /// up meanwhile, say) is forgotten rather than kept to fail again.
    fn after_history(&self, change: Option<Change>, undoing: bool) -> bool {
        self.last_nudge.set(None);
        let Some(change) = change else {
            self.after_change();
            return false;
        };
        let done = self.send_parts(change.parts().to_vec());
        if !done {
            let mut history = self.history.borrow_mut();
            if undoing { history.forget_last_redo() } else { history.forget_last_undo() }
        }
        self.save_history();
        self.after_change();
        done
    }
}
