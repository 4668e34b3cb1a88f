//! The board, and the one place changes are checked and applied.
//!
//! A board is a fixed-size sheet (`BOARD_WIDTH` × `BOARD_HEIGHT` units) that every
//! participant sees whole, scaled to their window, so "where a shape is" means
//! the same thing on every screen. Shapes are kept in drawing order: by layer
//! (`Shape::z`), and within a layer in the order they arrived there. Later
//! shapes are drawn on top and hit first.
//!
//! A change is checked (`check`: the rules, a batch as a whole) and then
//! applied here; `bounds` says where a shape may be and how big.

use std::collections::HashSet;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::change::{Change, ChangeError};
use super::ident::ShapeId;
use super::shape::{MAX_SHAPES, Shape, ShapeKind};
pub use bounds::{clamp_offset, clamp_size, clamp_to_board, size_fits};
use check::Trial;

pub const BOARD_WIDTH: f64 = 1600.0;
pub const BOARD_HEIGHT: f64 = 1000.0;

/// From this many deletes (or layer changes) in a row, a batch makes them in
/// one pass over the board.
const IN_ONE_PASS: usize = 16;

/// A board serialises as the list of its shapes in drawing order, and reads
/// back only if that list is one a board can hold (see `TryFrom`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(try_from = "Vec<Shape>")]
pub struct Board {
    shapes: IndexMap<ShapeId, Shape>,
    /// The characters all its texts keep, shown or erased (`MAX_BOARD_TEXT`).
    kept: usize,
}

/// Two boards are equal when they hold the same shapes in the same drawing
/// order. (`IndexMap`'s own equality ignores order.)
impl PartialEq for Board {
    fn eq(&self, other: &Board) -> bool {
        self.shapes.len() == other.shapes.len() && self.shapes.values().eq(other.shapes.values())
    }
}

/// A board made from a list of shapes, bottom first, holds exactly what
/// creating them in that order would: the same rules, checked the same way,
/// so a snapshot from storage or the wire cannot smuggle in what no change
/// could. The list must be in layer order, as every board is.
impl TryFrom<Vec<Shape>> for Board {
    type Error = ChangeError;

    fn try_from(shapes: Vec<Shape>) -> Result<Board, ChangeError> {
        let mut board = Board::new();
        board.shapes.reserve(shapes.len().min(MAX_SHAPES));
        let trial = Trial::default();
        for shape in shapes {
            board.check_new(&shape, &trial, board.len())?;
            if board.shapes.last().is_some_and(|(_, last)| shape.z < last.z) {
                return Err(ChangeError::LayersOutOfOrder);
            }
            board.kept += shape.text.kept();
            board.shapes.insert(shape.id.clone(), shape);
        }
        Ok(board)
    }
}

// Written by hand rather than through `into = "Vec<Shape>"`, which would copy
// the whole board for every snapshot sent.
impl Serialize for Board {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.shapes.values())
    }
}

impl Board {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    pub fn get(&self, id: &ShapeId) -> Option<&Shape> {
        self.shapes.get(id)
    }

    /// Where shape `id` is in the drawing order (0: the bottom).
    pub fn position(&self, id: &ShapeId) -> Option<usize> {
        self.shapes.get_index_of(id)
    }

    /// The shapes in drawing order (bottom first).
    pub fn shapes(&self) -> impl DoubleEndedIterator<Item = &Shape> + ExactSizeIterator {
        self.shapes.values()
    }

    /// The highest layer in use (0 on an empty board).
    pub fn top_layer(&self) -> i64 {
        self.shapes.last().map_or(0, |(_, s)| s.z)
    }

    /// The lowest layer in use (0 on an empty board).
    pub fn bottom_layer(&self) -> i64 {
        self.shapes.first().map_or(0, |(_, s)| s.z)
    }

    /// Validates and applies a change: the one code path the server and the
    /// browser both use. On error the board is unchanged.
    pub fn apply(&mut self, change: &Change) -> Result<(), ChangeError> {
        self.validate(change)?;
        let parts = change.parts();
        let mut at = 0;
        while at < parts.len() {
            // A run of deletes goes in one pass over the board: one by one,
            // each would shift every shape above it (deleting a full board
            // would take seconds). Deleting is idempotent and a run has nothing
            // between its deletes, so the board ends the same.
            let run = parts[at..].iter().take_while(|c| matches!(c, Change::Delete { .. })).count();
            if run >= IN_ONE_PASS {
                let gone: HashSet<&ShapeId> = parts[at..at + run]
                    .iter()
                    .filter_map(|c| if let Change::Delete { id } = c { Some(id) } else { None })
                    .collect();
                self.shapes.retain(|id, _| !gone.contains(id));
                self.kept = self.shapes.values().map(|s| s.text.kept()).sum();
                at += run;
                continue;
            }
            // So does a run of layer changes (bring to front, send to back).
            let run = parts[at..].iter().take_while(|c| matches!(c, Change::Layer { .. })).count();
            if run >= IN_ONE_PASS {
                self.relayer(&parts[at..at + run]);
                at += run;
                continue;
            }
            self.apply_checked(&parts[at]);
            at += 1;
        }
        Ok(())
    }

    /// Applies one checked change that is not a batch.
    fn apply_checked(&mut self, change: &Change) {
        match change {
            Change::Create { shape } => {
                self.kept += shape.text.kept();
                self.put_on_layer(shape.clone());
            }
            Change::Move { id, x, y } => {
                if let Some(shape) = self.shapes.get_mut(id) {
                    shape.x = *x;
                    shape.y = *y;
                }
            }
            Change::Delete { id } => {
                if let Some(gone) = self.shapes.shift_remove(id) {
                    self.kept -= gone.text.kept();
                }
            }
            Change::Write { id, after, at, text } => {
                if let Some(shape) = self.shapes.get_mut(id) {
                    shape.text.write(*after, *at, text);
                    self.kept += text.chars().count();
                }
            }
            Change::Erase { id, chars } => {
                if let Some(shape) = self.shapes.get_mut(id) {
                    shape.text.erase(chars);
                }
            }
            Change::Unerase { id, chars, text } => {
                if let Some(shape) = self.shapes.get_mut(id) {
                    shape.text.unerase(chars, text);
                }
            }
            Change::TextSize { id, size } => {
                if let Some(shape) = self.shapes.get_mut(id) {
                    shape.text_size = *size;
                }
            }
            Change::Resize { id, x, y, w, h } => {
                if let Some(shape) = self.shapes.get_mut(id) {
                    (shape.x, shape.y, shape.w, shape.h) = (*x, *y, *w, *h);
                }
            }
            Change::Rotate { id, rotation } => {
                if let Some(shape) = self.shapes.get_mut(id) {
                    shape.rotation = *rotation;
                }
            }
            Change::Color { id, color } => {
                if let Some(shape) = self.shapes.get_mut(id) {
                    shape.color = Some(*color);
                }
            }
            Change::Layer { id, z } => {
                if let Some(mut shape) = self.shapes.shift_remove(id) {
                    shape.z = *z;
                    self.put_on_layer(shape);
                }
            }
            Change::Batch { .. } => {}
        }
    }

    /// Layer changes (checked, nothing else among them) made at once, ending
    /// as they would one by one: each shape goes above every shape on its new
    /// layer, so the moved shapes end above the others there, in the order of
    /// their last change.
    fn relayer(&mut self, run: &[Change]) {
        // For each shape (by its place in the drawing order), its last
        // change in the run and the layer it gives.
        let mut last: Vec<Option<(usize, i64)>> = vec![None; self.shapes.len()];
        for (i, change) in run.iter().enumerate() {
            if let Change::Layer { id, z } = change
                && let Some(at) = self.shapes.get_index_of(id)
            {
                last[at] = Some((i, *z));
            }
        }
        let mut moved: Vec<(usize, Shape)> = Vec::new();
        let mut stay = IndexMap::with_capacity(self.shapes.len());
        for ((id, shape), last) in std::mem::take(&mut self.shapes).into_iter().zip(last) {
            match last {
                Some((i, z)) => moved.push((i, Shape { z, ..shape })),
                None => {
                    stay.insert(id, shape);
                }
            }
        }
        moved.sort_by_key(|(i, s)| (s.z, *i));
        let mut moved = moved.into_iter().map(|(_, s)| s).peekable();
        for (id, shape) in stay {
            while let Some(m) = moved.next_if(|m| m.z < shape.z) {
                self.shapes.insert(m.id.clone(), m);
            }
            self.shapes.insert(id, shape);
        }
        for m in moved {
            self.shapes.insert(m.id.clone(), m);
        }
    }

    /// Inserts `shape` above every shape on its layer and below every higher one.
    fn put_on_layer(&mut self, shape: Shape) {
        let at = self.shapes.partition_point(|_, s| s.z <= shape.z);
        self.shapes.shift_insert(at, shape.id.clone(), shape);
    }

    /// The topmost shape under the point, if any.
    pub fn hit_test(&self, x: f64, y: f64) -> Option<&Shape> {
        self.shapes.values().rev().find(|s| s.contains(x, y))
    }

    /// A place for a new shape of `kind` where it overlaps nothing, scanning the
    /// board in reading order; if the board is full, a cascade from the top left
    /// that still keeps each new shape visibly offset from the last.
    pub fn free_spot(&self, kind: ShapeKind) -> (f64, f64) {
        const CELL: f64 = 20.0;
        const MARGIN: f64 = 40.0;
        let cols = (BOARD_WIDTH / CELL) as usize;
        let rows = (BOARD_HEIGHT / CELL) as usize;
        // Occupancy grid with a summed-area table: each candidate spot is then
        // checked in constant time, so a full board costs one pass over its shapes.
        let mut sums = vec![0u32; (cols + 1) * (rows + 1)];
        let idx = |c: usize, r: usize| r * (cols + 1) + c;
        for s in self.shapes.values() {
            let [x0, y0, x1, y1] = s.bounds();
            let c0 = (x0.max(0.0) / CELL).floor() as usize;
            let r0 = (y0.max(0.0) / CELL).floor() as usize;
            let c1 = ((x1.max(0.0) / CELL).ceil() as usize).min(cols);
            let r1 = ((y1.max(0.0) / CELL).ceil() as usize).min(rows);
            for r in r0..r1 {
                for c in c0..c1 {
                    sums[idx(c + 1, r + 1)] = 1;
                }
            }
        }
        for r in 1..=rows {
            for c in 1..=cols {
                sums[idx(c, r)] += sums[idx(c - 1, r)] + sums[idx(c, r - 1)] - sums[idx(c - 1, r - 1)];
            }
        }
        let (w, h) = kind.size();
        let need_c = ((w + MARGIN) / CELL).ceil() as usize;
        let need_r = ((h + MARGIN) / CELL).ceil() as usize;
        for r in 1..rows.saturating_sub(need_r) {
            for c in 1..cols.saturating_sub(need_c) {
                let (c1, r1) = (c + need_c, r + need_r);
                let filled = sums[idx(c1, r1)] + sums[idx(c, r)] - sums[idx(c, r1)] - sums[idx(c1, r)];
                if filled == 0 {
                    let x = c as f64 * CELL + MARGIN / 2.0;
                    let y = r as f64 * CELL + MARGIN / 2.0;
                    return clamp_to_board((w, h), x, y);
                }
            }
        }
        let step = (self.shapes.len() % 20) as f64 * 24.0;
        clamp_to_board((w, h), 40.0 + step, 40.0 + step)
    }
}

mod bounds;
mod check;
#[cfg(test)]
mod tests;
