//! Checking a change against a board before it is applied: the one set of
//! rules the server and every tab share. A batch is checked as a whole, each
//! of its changes seeing what the ones before it did (`Trial`), so nothing is
//! applied unless all of it can be.

use std::collections::HashMap;

use super::super::change::{Change, ChangeError, MAX_BATCH, MAX_BOARD_TEXT};
use super::super::ident::ShapeId;
use super::super::shape::{MAX_SHAPES, Shape};
use super::super::text::Text;
use super::Board;
use super::bounds::{check_layer, check_rotation, check_size, in_bounds};

/// What the changes of a batch checked so far have done, as the later ones
/// see it: the sizes of the shapes they made or resized, and which they
/// deleted (`None`); the texts they edited, as edited; the characters they
/// added to the board's texts.
#[derive(Default)]
pub(super) struct Trial {
    shapes: HashMap<ShapeId, Tried>,
    kept: usize,
}

/// A shape as the batch so far left it: its size (none: deleted), and its
/// text if the batch edited it.
#[derive(Default)]
pub(super) struct Tried {
    size: Option<(f64, f64)>,
    text: Option<Text>,
}

impl Board {
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
    pub(super) fn check_new(&self, shape: &Shape, trial: &Trial, count: usize) -> Result<(), ChangeError> {
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
}
