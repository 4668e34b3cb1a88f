//! Where a shape may be and how big: the board's edges, the sides' limits,
//! the angles and layers a change may set, and the clamps the editor uses to
//! keep what it makes within them.

use super::super::change::ChangeError;
use super::super::shape::{MAX_LAYER, MIN_SIDE};
use super::{BOARD_HEIGHT, BOARD_WIDTH};

pub(super) fn check_layer(z: i64) -> Result<(), ChangeError> {
    if z.abs() > MAX_LAYER { Err(ChangeError::LayerOutOfRange(z)) } else { Ok(()) }
}

/// Whether a box of `w` × `h` with its top-left corner at (`x`, `y`) lies
/// wholly on the board (a turned shape's box is its box before turning).
/// Also rejects NaN and infinities, which fail every comparison.
pub(super) fn in_bounds((w, h): (f64, f64), x: f64, y: f64) -> bool {
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

pub(super) fn check_size(w: f64, h: f64) -> Result<(), ChangeError> {
    if size_fits(w, h) { Ok(()) } else { Err(ChangeError::BadSize { w, h }) }
}

pub(super) fn check_rotation(r: f64) -> Result<(), ChangeError> {
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
