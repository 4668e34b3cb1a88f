//! Resizing and turning the selection: the geometry, as changes, shared by
//! the keys (Alt+arrows, `<` and `>`) and the handles.
//!
//! - One shape resizes in its own frame: the point of its box named by
//!   `anchor` (fractions of its width and height: (0, 0) its top-left corner,
//!   (0.5, 0.5) its centre) stays where it is on the board, turned or not, as in
//!   Excalidraw and tldraw.
//! - A group scales inside the upright box around it: each shape's centre
//!   keeps its place in the box, and its sides scale with the box's (a shape
//!   turned nearer a quarter turn than upright takes the other axis's factor:
//!   a turned box cannot be skewed, so that is the nearest it can follow).
//! - Turning turns each shape about the centre of the selection's box: one
//!   shape about its own centre, a group as one.
//!
//! Sizes keep to `MIN_SIDE`..the board, and every shape stays on the board.
//! Each function says where every shape goes, changed or not (a handle's drag
//! computes from where the shapes were when it began, and must be able to
//! put them back); `changed` keeps what differs from the board.

use crate::model::frame::{normalize_degrees, sin_cos_degrees, turn};
use crate::model::{Board, Change, Shape, clamp_size, clamp_to_board};

/// The upright box [x0, y0, x1, y1] around `shapes` as drawn.
pub(crate) fn bounds<'a>(shapes: impl IntoIterator<Item = &'a Shape>) -> Option<[f64; 4]> {
    shapes
        .into_iter()
        .map(Shape::bounds)
        .reduce(|a, b| [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])])
}

/// Of `changes`, those that would change `board`.
pub(crate) fn changed(board: &Board, changes: Vec<Change>) -> Vec<Change> {
    let differs = |c: &Change| match c {
        Change::Resize { id, x, y, w, h } => board.get(id).is_none_or(|s| [s.x, s.y, s.w, s.h] != [*x, *y, *w, *h]),
        Change::Move { id, x, y } => board.get(id).is_none_or(|s| (s.x, s.y) != (*x, *y)),
        Change::Rotate { id, rotation } => board.get(id).is_none_or(|s| s.rotation != *rotation),
        _ => true,
    };
    changes.into_iter().filter(differs).collect()
}

/// `shape` resized to `w` × `h` (made a size it may have), keeping the point
/// of its box at `anchor` where it is.
pub(crate) fn resize_all(shape: &Shape, anchor: (f64, f64), w: f64, h: f64) -> Vec<Change> {
    let (w, h) = clamp_size(w, h);
    let fixed = turn((shape.x + anchor.0 * shape.w, shape.y + anchor.1 * shape.h), shape.centre(), shape.rotation);
    // Where the new box's centre must be for its anchor to land on `fixed`.
    let offset = turn(((anchor.0 - 0.5) * w, (anchor.1 - 0.5) * h), (0.0, 0.0), shape.rotation);
    let (cx, cy) = (fixed.0 - offset.0, fixed.1 - offset.1);
    let (x, y) = clamp_to_board((w, h), cx - w / 2.0, cy - h / 2.0);
    vec![Change::Resize { id: shape.id.clone(), x, y, w, h }]
}

/// `shapes` scaled from the box `from` ([x0, y0, x1, y1]) to the box `to`.
pub(crate) fn scale_all(shapes: &[Shape], from: [f64; 4], to: [f64; 4]) -> Vec<Change> {
    let factor = |a0: f64, a1: f64, b0: f64, b1: f64| if a1 > a0 { (b1 - b0) / (a1 - a0) } else { 1.0 };
    let (sx, sy) = (factor(from[0], from[2], to[0], to[2]), factor(from[1], from[3], to[1], to[3]));
    let mut changes = Vec::with_capacity(shapes.len());
    for s in shapes {
        let (sin, cos) = sin_cos_degrees(s.rotation);
        let (fw, fh) = if sin.abs() > cos.abs() { (sy, sx) } else { (sx, sy) };
        let (w, h) = clamp_size(s.w * fw, s.h * fh);
        let (cx, cy) = s.centre();
        let (cx, cy) = (to[0] + (cx - from[0]) * sx, to[1] + (cy - from[1]) * sy);
        let (x, y) = clamp_to_board((w, h), cx - w / 2.0, cy - h / 2.0);
        changes.push(Change::Resize { id: s.id.clone(), x, y, w, h });
    }
    changes
}

/// The selection made `dw` wider and `dh` taller (narrower and shorter when
/// negative), its top-left corner staying where it is: one shape in its own
/// frame, a group by its box.
pub(crate) fn grow(shapes: &[Shape], dw: f64, dh: f64) -> Vec<Change> {
    match shapes {
        [] => Vec::new(),
        [one] => resize_all(one, (0.0, 0.0), one.w + dw, one.h + dh),
        group => {
            let Some(from) = bounds(group) else { return Vec::new() };
            let [x0, y0, x1, y1] = from;
            // A group shrinks no further than its smallest side allows.
            let to = [x0, y0, (x1 + dw).max(x0 + 1.0), (y1 + dh).max(y0 + 1.0)];
            scale_all(group, from, to)
        }
    }
}

/// `shapes` turned `degrees` clockwise about the centre of their box, each on
/// the board.
pub(crate) fn rotate_all(shapes: &[Shape], degrees: f64) -> Vec<Change> {
    let Some([x0, y0, x1, y1]) = bounds(shapes) else { return Vec::new() };
    let pivot = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let mut changes = Vec::with_capacity(shapes.len() * 2);
    for s in shapes {
        let (cx, cy) = turn(s.centre(), pivot, degrees);
        // Whole units stay whole: a group turned and turned back lands where it was.
        let (x, y) = clamp_to_board(s.size(), settle(cx - s.w / 2.0), settle(cy - s.h / 2.0));
        changes.push(Change::Move { id: s.id.clone(), x, y });
        changes.push(Change::Rotate { id: s.id.clone(), rotation: normalize_degrees(s.rotation + degrees) });
    }
    changes
}

/// `v` to the nearest millionth of a unit: sines and cosines leave a few ulps
/// behind that would otherwise pile up turn after turn.
fn settle(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}
