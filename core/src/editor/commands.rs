//! Commands on the selection, from keys or the toolbar: delete, colour,
//! restack, nudge, select all, clear, Tab cycling, undo and redo, and `run`,
//! which carries out a key's command. Each acts on the whole selection as one
//! change (a batch when it touches several shapes) and one undo step, and
//! returns whether it was for the board (a key that acted must not also do
//! what the page would do with it: scroll, move the focus).

use std::collections::HashSet;

use crate::model::{Change, Color, Shape, ShapeId, TextSize, clamp_offset};

use super::document::{Clipboard, Document};
use super::keys::Command;
use super::machine::Editor;
use super::machine::ToolKind;
use super::shared::KeyBurst;
use super::transform;

/// A layer command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    ToFront,
    ToBack,
}

impl Editor {
    /// Carries out a key's command (`keys::map`); `now_ms` times nudge
    /// bursts, `clipboard` holds what Copy and Paste exchange. Returns whether
    /// it acted: Copy and Paste only act when there is something to copy or
    /// paste, so that text selected on the page copies as usual.
    pub fn run(
        &mut self,
        doc: &mut dyn Document,
        command: Command,
        now_ms: f64,
        clipboard: &mut dyn Clipboard,
    ) -> bool {
        match command {
            Command::Nudge { dx, dy } => self.nudge(doc, dx, dy, now_ms),
            Command::Resize { dw, dh } => self.grow(doc, dw, dh, now_ms),
            Command::Rotate { degrees } => self.rotate(doc, degrees, now_ms),
            Command::Delete => self.delete_selected(doc),
            Command::ClearSelection => {
                // Escape also puts down a tool taken up and not used yet.
                let tool = self.tool() != ToolKind::Select;
                self.choose_tool(ToolKind::Select);
                self.clear_selection() || tool
            }
            Command::Undo => self.undo(doc),
            Command::Redo => self.redo(doc),
            Command::ToFront => self.restack(doc, Stack::ToFront),
            Command::ToBack => self.restack(doc, Stack::ToBack),
            Command::SelectAll => self.select_all(doc),
            Command::Duplicate => self.duplicate(doc),
            Command::Copy => match self.copy(doc) {
                Some(shapes) => {
                    clipboard.write(&shapes);
                    true
                }
                None => false,
            },
            Command::Paste => clipboard.read().is_some_and(|shapes| self.paste(doc, shapes)),
            Command::Cycle { back } => self.cycle(doc, back),
            Command::Write => self.write_in_selection(doc),
            Command::Add(kind) => self.add_shape(doc, kind),
            Command::Tool(kind) => {
                self.choose_tool(kind);
                true
            }
        }
    }

    /// Deletes the selection; returns whether there was one.
    pub fn delete_selected(&mut self, doc: &mut dyn Document) -> bool {
        let ids = std::mem::take(&mut self.shared.selected);
        if ids.is_empty() {
            return false;
        }
        self.shared.dirty.selection = true;
        self.shared.act(doc, ids.into_iter().map(|id| Change::Delete { id }).collect(), false);
        self.shared.prune(doc.view());
        self.settle();
        true
    }

    /// Chooses the colour for new shapes, and gives it to the selected shapes
    /// of another fill; whether any changed.
    pub fn paint(&mut self, doc: &mut dyn Document, color: Color) -> bool {
        self.shared.color = Some(color);
        let parts = self.shared.selection(doc.view()).into_iter().filter(|s| s.fill() != color);
        let done = self.shared.act(doc, parts.map(|s| Change::Color { id: s.id, color }).collect(), false);
        self.settle();
        done
    }

    /// Gives the selection's text `size` (the **Text size** buttons), as one
    /// step, text boxes fitted to their text at that size; whether any
    /// shape's size changed.
    pub fn size_text(&mut self, doc: &mut dyn Document, size: TextSize) -> bool {
        let mut parts = Vec::new();
        for s in self.shared.selection(doc.view()).into_iter().filter(|s| s.text_size != size) {
            parts.extend(self.fit(doc, &s.id, &s.text.shown(), size));
            parts.push(Change::TextSize { id: s.id, size });
        }
        let done = self.shared.act(doc, parts, false);
        self.settle();
        done
    }

    /// Brings the selection to the front, or sends it to the back, keeping
    /// the order of its shapes among themselves (nothing to send when they
    /// are there already). Returns whether something was selected.
    pub fn restack(&mut self, doc: &mut dyn Document, to: Stack) -> bool {
        let shapes = self.shared.selection(doc.view());
        if shapes.is_empty() {
            return false;
        }
        let view = doc.view();
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
        if !already {
            self.shared.act(doc, shapes.into_iter().map(|s| Change::Layer { id: s.id, z }).collect(), false);
            self.settle();
        }
        true
    }

    /// Moves the selection by (`dx`, `dy`), as a group, stopping at the
    /// board's edge. Presses less than `NUDGE_BURST_MS` apart on the same
    /// selection are one undo step. Returns whether something was selected
    /// (with nothing selected, arrows scroll the page).
    pub fn nudge(&mut self, doc: &mut dyn Document, dx: f64, dy: f64, now_ms: f64) -> bool {
        let shapes = self.shared.selection(doc.view());
        if shapes.is_empty() {
            return false;
        }
        let (dx, dy) = clamp_offset(shapes.iter().map(Shape::frame), dx, dy);
        if (dx, dy) != (0.0, 0.0) {
            let moves = shapes.into_iter().map(|s| Change::Move { id: s.id, x: s.x + dx, y: s.y + dy }).collect();
            self.in_burst(doc, moves, KeyBurst::Move, now_ms);
        }
        true
    }

    /// Makes the selection `dw` wider and `dh` taller (`transform::grow`);
    /// presses in a burst are one undo step, as nudges are. Returns whether
    /// something was selected.
    pub fn grow(&mut self, doc: &mut dyn Document, dw: f64, dh: f64, now_ms: f64) -> bool {
        let shapes = self.shared.selection(doc.view());
        let changes = transform::changed(doc.view(), transform::grow(&shapes, dw, dh));
        self.in_burst(doc, changes, KeyBurst::Resize, now_ms);
        !shapes.is_empty()
    }

    /// Turns the selection `degrees` clockwise about its centre
    /// (`transform::rotate`); a burst of presses is one undo step. Returns
    /// whether something was selected.
    pub fn rotate(&mut self, doc: &mut dyn Document, degrees: f64, now_ms: f64) -> bool {
        let shapes = self.shared.selection(doc.view());
        let changes = transform::changed(doc.view(), transform::rotate_all(&shapes, degrees));
        self.in_burst(doc, changes, KeyBurst::Turn, now_ms);
        !shapes.is_empty()
    }

    /// Sends a key's changes, as part of the last step if a key of the same
    /// `kind` acted less than `NUDGE_BURST_MS` ago on the same shapes.
    fn in_burst(&mut self, doc: &mut dyn Document, changes: Vec<Change>, kind: KeyBurst, now_ms: f64) {
        if !changes.is_empty() {
            self.shared.act_in_burst(doc, changes, kind, now_ms);
            self.settle();
        }
    }

    /// Selects every shape.
    pub fn select_all(&mut self, doc: &mut dyn Document) -> bool {
        self.shared.select(doc.view().shapes().map(|s| s.id.clone()).collect());
        true
    }

    /// Selects nothing; whether something was selected.
    pub fn clear_selection(&mut self) -> bool {
        let had = !self.shared.selected.is_empty();
        self.shared.select(Vec::new());
        had
    }

    /// Selects the next shape up (or, `back`, down) the drawing order from
    /// the last one selected, alone. Past either end, clears the selection and
    /// returns false, so Tab leaves the board rather than trap the keyboard.
    pub fn cycle(&mut self, doc: &mut dyn Document, back: bool) -> bool {
        let ids: Vec<&ShapeId> = doc.view().shapes().map(|s| &s.id).collect();
        let current = self.shared.selected.last().and_then(|c| ids.iter().position(|id| *id == c));
        let at = match (current, back) {
            (None, false) => (!ids.is_empty()).then_some(0),
            (None, true) => ids.len().checked_sub(1),
            (Some(i), false) => (i + 1 < ids.len()).then_some(i + 1),
            (Some(i), true) => i.checked_sub(1),
        };
        let next: Vec<ShapeId> = at.map(|i| ids[i].clone()).into_iter().collect();
        let found = !next.is_empty();
        self.shared.select(next);
        found
    }

    /// Undoes this tab's last step; whether there was one to send.
    pub fn undo(&mut self, doc: &mut dyn Document) -> bool {
        let had = self.shared.history.can_undo();
        let change = self.shared.history.undo(doc.view());
        self.after_history(doc, had, change, true)
    }

    /// Redoes the last undone step; whether there was one to send.
    pub fn redo(&mut self, doc: &mut dyn Document) -> bool {
        let had = self.shared.history.can_redo();
        let change = self.shared.history.redo(doc.view());
        self.after_history(doc, had, change, false)
    }

    /// Sends what an undo or redo made; a change the board refuses (it filled
    /// up meanwhile, say) is forgotten rather than kept to fail again.
    fn after_history(&mut self, doc: &mut dyn Document, had: bool, change: Option<Change>, undoing: bool) -> bool {
        let shared = &mut self.shared;
        shared.last_burst = None;
        // A step was used up even when nothing was left to send.
        shared.dirty.history |= had;
        let done = match change {
            None => false,
            Some(change) => {
                let done = shared.send_parts(doc, change.parts().to_vec());
                if !done {
                    if undoing { shared.history.forget_last_redo() } else { shared.history.forget_last_undo() }
                }
                done
            }
        };
        shared.prune(doc.view());
        self.settle();
        done
    }
}
