//! The editor's tests: each gesture and command as the browser drives it,
//! on a plain board that records what was sent (`Room`).
#![allow(clippy::unwrap_used)] // tests unwrap what must hold

mod commands;
mod keys;
mod placing;
mod pointer;
mod text_box;
mod transform;
mod writing;

use super::*;
use crate::model::{Board, Change, Shape, ShapeId, ShapeKind};
use crate::undo::History;

pub(super) fn id(s: &str) -> ShapeId {
    ShapeId::parse(s).unwrap()
}

/// An editor whose new shapes are named n1, n2, …
pub(super) fn editor() -> Editor {
    let mut n = 0;
    Editor::new(
        History::new(),
        Box::new(move || {
            n += 1;
            id(&format!("n{n}"))
        }),
    )
}

/// A board that records every change submitted to it, as the room would
/// receive them.
#[derive(Default)]
pub(super) struct Room {
    pub board: Board,
    pub sent: Vec<Change>,
}

impl Document for Room {
    fn view(&self) -> &Board {
        &self.board
    }

    fn submit(&mut self, change: Change) -> bool {
        let done = self.board.apply(&change).is_ok();
        if done {
            self.sent.push(change);
        }
        done
    }
}

/// A room holding these shapes (name, kind, x, y), bottom first.
pub(super) fn room(shapes: &[(&str, ShapeKind, f64, f64)]) -> Room {
    let mut board = Board::new();
    for &(name, kind, x, y) in shapes {
        board.apply(&Change::Create { shape: Shape::new(id(name), kind, x, y) }).unwrap();
    }
    Room { board, sent: Vec::new() }
}

/// Someone else's change: applied to the board, and the editor told.
pub(super) fn others(e: &mut Editor, r: &mut Room, change: Change) {
    r.board.apply(&change).unwrap();
    e.observe(&change);
    e.board_changed(&r.board);
}

/// Where shape `name` is.
pub(super) fn at(r: &Room, name: &str) -> (f64, f64) {
    let s = r.board.get(&id(name)).unwrap();
    (s.x, s.y)
}

/// The selection, by name.
pub(super) fn selected(e: &Editor) -> Vec<&str> {
    e.selection().iter().map(ShapeId::as_str).collect()
}

/// The shapes in drawing order, by name.
pub(super) fn order(r: &Room) -> Vec<&str> {
    r.board.shapes().map(|s| s.id.as_str()).collect()
}

/// How many single changes the last change sent held (a batch's parts).
pub(super) fn last_parts(r: &Room) -> usize {
    r.sent.last().map_or(0, |c| c.parts().len())
}

pub(super) const R: ShapeKind = ShapeKind::Rectangle; // 160 × 100
pub(super) const C: ShapeKind = ShapeKind::Circle; // 120 × 120
pub(super) const T: ShapeKind = ShapeKind::Triangle; // 140 × 120
