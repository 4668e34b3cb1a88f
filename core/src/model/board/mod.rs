//! The board, and the one place changes are checked and applied.
//!
//! A board is a fixed-size sheet (`BOARD_WIDTH` × `BOARD_HEIGHT` units) that every
//! participant sees whole, scaled to their window, so "where a shape is" means
//! the same thing on every screen. Shapes are kept in drawing order: by layer
//! (`Shape::z`), and within a layer in the order they arrived there. Later
//! shapes are drawn on top and hit first.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::change::{Change, ChangeError, MAX_BATCH, MAX_BOARD_TEXT};
use super::ident::ShapeId;
use super::shape::{MAX_LAYER, MAX_SHAPES, MIN_SIDE, Shape, ShapeKind};
use super::text::Text;

pub const BOARD_WIDTH: f64 = 1600.0;
pub const BOARD_HEIGHT: f64 = 1000.0;

/// From this many deletes (or layer changes) in a row, a batch makes them in
/// one pass over the board.
const IN_ONE_PASS: usize = 16;

fn check_layer(z: i64) -> Result<(), ChangeError> {
    if z.abs() > MAX_LAYER { Err(ChangeError::LayerOutOfRange(z)) } else { Ok(()) }
}

/// Whether a box of `w` × `h` with its top-left corner at (`x`, `y`) lies
/// wholly on the board (a turned shape's box is its box before turning).
/// Also rejects NaN and infinities, which fail every comparison.
fn in_bounds((w, h): (f64, f64), x: f64, y: f64) -> bool {
    (0.0..=BOARD_WIDTH - w).contains(&x) && (0.0..=BOARD_HEIGHT - h).contains(&y)
}

/// Whether a shape may have a box of `w` × `h`: each side from `MIN_SIDE` to the board's.
pub fn size_fits(w: f64, h: f64) -> bool {
    (MIN_SIDE..=BOARD_WIDTH).contains(&w) && (MIN_SIDE..=BOARD_HEIGHT).contains(&h)
}

/// `w` × `h` made a size a shape may have (`size_fits`).
pub fn clamp_size(w: f64, h: f64) -> (f64, f64) {
    let w = if w.is_finite() { w } else { MIN_SIDE };
    let h = if h.is_finite() { h } else { MIN_SIDE };
    (w.clamp(MIN_SIDE, BOARD_WIDTH), h.clamp(MIN_SIDE, BOARD_HEIGHT))
}

fn check_size(w: f64, h: f64) -> Result<(), ChangeError> {
    if size_fits(w, h) { Ok(()) } else { Err(ChangeError::BadSize { w, h }) }
}

fn check_rotation(r: f64) -> Result<(), ChangeError> {
    if (0.0..360.0).contains(&r) { Ok(()) } else { Err(ChangeError::BadRotation(r)) }
}

/// Moves (`x`, `y`) the least distance that puts a box of `size` wholly on the board.
pub fn clamp_to_board((w, h): (f64, f64), x: f64, y: f64) -> (f64, f64) {
    let x = if x.is_finite() { x } else { 0.0 };
    let y = if y.is_finite() { y } else { 0.0 };
    (x.clamp(0.0, (BOARD_WIDTH - w).max(0.0)), y.clamp(0.0, (BOARD_HEIGHT - h).max(0.0)))
}

/// The largest part of (`dx`, `dy`) that keeps every one of `boxes` (`x`,
/// `y`, `w`, `h`) wholly on the board: a group moves as one, stopping when its
/// first shape meets an edge, so it keeps its shape.
pub fn clamp_offset(boxes: impl Iterator<Item = [f64; 4]>, dx: f64, dy: f64) -> (f64, f64) {
    let (mut lo_x, mut hi_x, mut lo_y, mut hi_y) = (f64::MIN, f64::MAX, f64::MIN, f64::MAX);
    for [x, y, w, h] in boxes {
        lo_x = lo_x.max(-x);
        hi_x = hi_x.min(BOARD_WIDTH - w - x);
        lo_y = lo_y.max(-y);
        hi_y = hi_y.min(BOARD_HEIGHT - h - y);
    }
    let dx = if dx.is_finite() { dx.clamp(lo_x.min(0.0), hi_x.max(0.0)) } else { 0.0 };
    let dy = if dy.is_finite() { dy.clamp(lo_y.min(0.0), hi_y.max(0.0)) } else { 0.0 };
    (dx, dy)
}

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

/// What the changes of a batch checked so far have done, as the later ones
/// see it: the sizes of the shapes they made or resized, and which they
/// deleted (`None`); the texts they edited, as edited; the characters they
/// added to the board's texts.
#[derive(Default)]
struct Trial {
    shapes: HashMap<ShapeId, Tried>,
    kept: usize,
}

/// A shape as the batch so far left it: its size (none: deleted), and its
/// text if the batch edited it.
#[derive(Default)]
struct Tried {
    size: Option<(f64, f64)>,
    text: Option<Text>,
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

    /// Checks a change against this board without applying it: a batch as a
    /// whole, each of its changes seeing the ones before it.
    pub fn validate(&self, change: &Change) -> Result<(), ChangeError> {
        let Change::Batch { changes } = change else {
            return self.check(change, &Trial::default(), self.len());
        };
        if changes.is_empty() || changes.len() > MAX_BATCH {
            return Err(ChangeError::BatchSize(changes.len()));
        }
        let mut trial = Trial::default();
        let mut count = self.len();
        for (index, part) in changes.iter().enumerate() {
            let refused = |e| ChangeError::InBatch { index, source: Box::new(e) };
            self.check(part, &trial, count).map_err(refused)?;
            match part {
                Change::Create { shape } => {
                    let tried = Tried { size: Some(shape.size()), text: Some(shape.text.clone()) };
                    trial.shapes.insert(shape.id.clone(), tried);
                    trial.kept += shape.text.kept();
                    count += 1;
                }
                Change::Delete { id } if self.size_in(&trial, id).is_some() => {
                    trial.shapes.insert(id.clone(), Tried::default());
                    count -= 1;
                }
                Change::Resize { id, w, h, .. } => {
                    let text = trial.shapes.remove(id).and_then(|t| t.text);
                    trial.shapes.insert(id.clone(), Tried { size: Some((*w, *h)), text });
                }
                Change::Write { id, after, at, text } => {
                    trial.kept += text.chars().count();
                    self.edit_in(&mut trial, id, |t| t.write(*after, *at, text));
                }
                Change::Erase { id, chars } => self.edit_in(&mut trial, id, |t| t.erase(chars)),
                Change::Unerase { id, chars, text } => self.edit_in(&mut trial, id, |t| t.unerase(chars, text)),
                _ => {}
            }
        }
        Ok(())
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

    /// The text of shape `id`, with the batch so far applied (the shape is known to be there).
    fn text_in<'a>(&'a self, trial: &'a Trial, id: &ShapeId) -> Option<&'a Text> {
        match trial.shapes.get(id) {
            Some(Tried { text: Some(text), .. }) => Some(text),
            _ => self.shapes.get(id).map(|s| &s.text),
        }
    }

    /// Edits the batch's copy of shape `id`'s text.
    fn edit_in(&self, trial: &mut Trial, id: &ShapeId, edit: impl FnOnce(&mut Text)) {
        let size = self.size_in(trial, id);
        let board_text = || self.shapes.get(id).map(|s| s.text.clone());
        let tried = trial.shapes.entry(id.clone()).or_insert_with(|| Tried { size, text: None });
        if tried.text.is_none() {
            tried.text = board_text();
        }
        if let Some(text) = &mut tried.text {
            edit(text);
        }
    }

    /// The size of shape `id`, with the batch so far applied; none if there
    /// is no such shape.
    fn size_in(&self, trial: &Trial, id: &ShapeId) -> Option<(f64, f64)> {
        match trial.shapes.get(id) {
            Some(tried) => tried.size,
            None => self.shapes.get(id).map(Shape::size),
        }
    }

    /// Checks one change that is not a batch; `count` shapes are on the board.
    fn check(&self, change: &Change, trial: &Trial, count: usize) -> Result<(), ChangeError> {
        let known = |id: &ShapeId| self.size_in(trial, id).ok_or_else(|| ChangeError::UnknownShape(id.clone()));
        match change {
            Change::Create { shape } => self.check_new(shape, trial, count)?,
            Change::Move { id, x, y } => {
                let (w, h) = known(id)?;
                if !in_bounds((w, h), *x, *y) {
                    return Err(ChangeError::OutOfBounds { w, h, x: *x, y: *y });
                }
            }
            Change::Delete { .. } => {}
            Change::Resize { id, x, y, w, h } => {
                known(id)?;
                check_size(*w, *h)?;
                if !in_bounds((*w, *h), *x, *y) {
                    return Err(ChangeError::OutOfBounds { w: *w, h: *h, x: *x, y: *y });
                }
            }
            Change::Rotate { id, rotation } => {
                known(id)?;
                check_rotation(*rotation)?;
            }
            Change::Write { id, after, at, text } => {
                known(id)?;
                let refused = |source| ChangeError::Text { id: id.clone(), source };
                self.text_in(trial, id).map_or(Ok(()), |t| t.check_write(*after, *at, text)).map_err(refused)?;
                if self.kept + trial.kept + text.chars().count() > MAX_BOARD_TEXT {
                    return Err(ChangeError::BoardTextFull);
                }
            }
            Change::Erase { id, chars } => {
                known(id)?;
                let refused = |source| ChangeError::Text { id: id.clone(), source };
                self.text_in(trial, id).map_or(Ok(()), |t| t.check_erase(chars)).map_err(refused)?;
            }
            Change::Unerase { id, chars, text } => {
                known(id)?;
                let refused = |source| ChangeError::Text { id: id.clone(), source };
                self.text_in(trial, id).map_or(Ok(()), |t| t.check_unerase(chars, text)).map_err(refused)?;
            }
            Change::TextSize { id, .. } => {
                known(id)?;
            }
            Change::Color { id, .. } => {
                known(id)?;
            }
            Change::Layer { id, z } => {
                known(id)?;
                check_layer(*z)?;
            }
            Change::Batch { .. } => return Err(ChangeError::NestedBatch),
        }
        Ok(())
    }

    fn check_new(&self, shape: &Shape, trial: &Trial, count: usize) -> Result<(), ChangeError> {
        if self.size_in(trial, &shape.id).is_some() {
            return Err(ChangeError::DuplicateShape(shape.id.clone()));
        }
        if count >= MAX_SHAPES {
            return Err(ChangeError::TooManyShapes);
        }
        check_size(shape.w, shape.h)?;
        if !in_bounds(shape.size(), shape.x, shape.y) {
            return Err(ChangeError::OutOfBounds { w: shape.w, h: shape.h, x: shape.x, y: shape.y });
        }
        check_rotation(shape.rotation)?;
        if self.kept + trial.kept + shape.text.kept() > MAX_BOARD_TEXT {
            return Err(ChangeError::BoardTextFull);
        }
        check_layer(shape.z)
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
        let mut last: HashMap<&ShapeId, (usize, i64)> = HashMap::new();
        for (i, change) in run.iter().enumerate() {
            if let Change::Layer { id, z } = change {
                last.insert(id, (i, *z));
            }
        }
        let mut moved: Vec<(usize, Shape)> = Vec::with_capacity(last.len());
        let mut stay = IndexMap::with_capacity(self.shapes.len());
        for (id, shape) in std::mem::take(&mut self.shapes) {
            match last.get(&id) {
                Some(&(i, z)) => moved.push((i, Shape { z, ..shape })),
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

#[cfg(test)]
mod tests;
