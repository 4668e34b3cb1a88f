//! The live board's user side: what each input and toolbar command does to
//! the board. Each action becomes one change for the session (a batch when it
//! touches several shapes) and one step of the tab's undo history (`history`
//! in the shared core, which decides what undoing may touch).

use crate::history::Step;
use crate::model::{Change, Color, Shape, ShapeId, ShapeKind, clamp_to_board};

use super::input::Input;
use super::live_board::{Drag, LiveBoard, random_id};

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
        if self.act(Change::Create { shape }, false) {
            *self.selected.borrow_mut() = Some(id);
            self.after_change();
        }
    }

    /// Deletes the selected shape; returns whether there was one.
    pub fn delete_selected(&self) -> bool {
        let Some(id) = self.selected.borrow_mut().take() else { return false };
        self.act(Change::Delete { id }, false);
        self.after_change();
        true
    }

    /// Chooses the colour for new shapes, and gives it to the selection.
    pub fn set_color(&self, color: Color) {
        self.color.set(Some(color));
        if let Some(shape) = self.selected_shape().filter(|s| s.fill() != color) {
            self.act(Change::Color { id: shape.id, color }, false);
        }
    }

    /// Brings the selection to the front, or sends it to the back.
    pub fn restack(&self, to: Stack) -> bool {
        let Some(shape) = self.selected_shape() else { return false };
        let z = {
            let session = self.session.borrow();
            let view = session.view();
            let at_edge = match to {
                Stack::ToFront => view.shapes().next_back().map(|s| &s.id) == Some(&shape.id),
                Stack::ToBack => view.shapes().next().map(|s| &s.id) == Some(&shape.id),
            };
            if at_edge {
                return true;
            }
            match to {
                Stack::ToFront => view.top_layer() + 1,
                Stack::ToBack => view.bottom_layer() - 1,
            }
        };
        self.act(Change::Layer { id: shape.id, z }, false);
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
        match input {
            Input::Press { x, y } => self.press(x, y),
            Input::PointerMove { x, y } => self.pointer_move(x, y),
            Input::Release => {
                self.release();
                false
            }
            Input::Nudge { dx, dy } => self.nudge(dx, dy),
            Input::Delete => self.delete_selected(),
            Input::ClearSelection => {
                let had = self.selected.borrow_mut().take().is_some();
                self.after_change();
                had
            }
            Input::Undo => self.undo(),
            Input::Redo => self.redo(),
            Input::ToFront => self.restack(Stack::ToFront),
            Input::ToBack => self.restack(Stack::ToBack),
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

    /// Moves the selection by (`dx`, `dy`), stopping at the board's edge.
    /// Returns whether something was selected (the key was for the board).
    fn nudge(&self, dx: f64, dy: f64) -> bool {
        let Some(shape) = self.selected_shape() else { return false };
        let (x, y) = clamp_to_board(shape.kind, shape.x + dx, shape.y + dy);
        if (x, y) != (shape.x, shape.y) {
            let now = js_sys::Date::now();
            let burst = self.last_nudge.replace(Some(now)).is_some_and(|then| now - then < NUDGE_BURST_MS);
            self.act(Change::Move { id: shape.id, x, y }, burst);
            self.last_nudge.set(Some(now));
        }
        true
    }

    /// A press on the canvas: select what is under it (or nothing) and get
    /// ready to drag it. Returns whether a shape was hit.
    fn press(&self, x: f64, y: f64) -> bool {
        let view_hit = {
            let session = self.session.borrow();
            session.view().hit_test(x, y).cloned().map(|s| {
                // The whole drag is one step: the shape as it was before it.
                let step = Step::touching(session.view(), [&s.id]);
                (s, step)
            })
        };
        let grabbed = view_hit.is_some();
        *self.drag.borrow_mut() = view_hit.as_ref().map(|(s, step)| Drag {
            id: s.id.clone(),
            grab: (x - s.x, y - s.y),
            target: None,
            step: step.clone(),
        });
        *self.selected.borrow_mut() = view_hit.map(|(s, _)| s.id);
        self.after_change();
        grabbed
    }

    /// The pointer moved: a drag follows it (the move is sent at the next
    /// frame, so a drag streams at the display's rate however fast the pointer
    /// reports); otherwise, says whether a shape is under it, for the cursor.
    fn pointer_move(&self, x: f64, y: f64) -> bool {
        let mut drag = self.drag.borrow_mut();
        let Some(drag) = drag.as_mut() else {
            return self.session.borrow().view().hit_test(x, y).is_some();
        };
        drag.target = Some((x - drag.grab.0, y - drag.grab.1));
        self.invalidate();
        true
    }

    fn release(&self) {
        self.flush_drag();
        if let Some(drag) = self.drag.borrow_mut().take() {
            let step = drag.step.finish(self.session.borrow().view());
            self.remember(step, false);
        }
        self.invalidate();
    }

    pub(super) fn selected_shape(&self) -> Option<Shape> {
        let selected = self.selected.borrow();
        self.session.borrow().view().get(selected.as_ref()?).cloned()
    }

    /// Sends the drag's latest position, if it has not been sent.
    pub(super) fn flush_drag(&self) {
        let target = self.drag.borrow_mut().as_mut().and_then(|d| d.target.take().map(|t| (d.id.clone(), t)));
        let Some((id, (x, y))) = target else { return };
        let Some(kind) = self.session.borrow().view().get(&id).map(|s| s.kind) else {
            // Someone deleted it mid-drag.
            *self.drag.borrow_mut() = None;
            return;
        };
        let (x, y) = clamp_to_board(kind, x, y);
        self.submit(Change::Move { id, x, y });
    }

    /// Makes a change as one undo step (with `merge`, part of the last one
    /// if it touched the same shapes).
    fn act(&self, change: Change, merge: bool) -> bool {
        let step = Step::before(self.session.borrow().view(), &change);
        if !self.submit(change) {
            return false;
        }
        let step = step.finish(self.session.borrow().view());
        if !merge {
            self.last_nudge.set(None);
        }
        self.remember(step, merge);
        true
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
        let done = self.submit(change);
        if !done {
            let mut history = self.history.borrow_mut();
            if undoing { history.forget_last_redo() } else { history.forget_last_undo() }
        }
        self.save_history();
        self.after_change();
        done
    }
}
