//! Which shapes of a board can be seen at all: those not wholly hidden under
//! shapes painted after them.
//!
//! A full board holds 10,000 shapes on a sheet that 120 of them would cover, so
//! most of them lie under others; painting only the rest makes the same picture
//! several times faster (the canvas, a history version, the `.png` answer).
//! Every colour is opaque, and a pixel wholly inside a shape's outline is
//! painted with full coverage, so whatever was under it is gone. The test is
//! conservative: a shape is left out only when every pixel it could touch,
//! anti-aliasing included, is wholly inside one shape above it. Sharing the
//! same picture is tested pixel for pixel on the server's rasteriser
//! (`server::pictures`).

use crate::model::{BOARD_HEIGHT, BOARD_WIDTH, Shape};
use crate::picture::{OUTLINE_WIDTH, Outline};

/// The side of a cell of the coverage grid, in board units.
const CELL: f64 = 4.0;
/// How far the grid reaches beyond the sheet (outlines stand out by half their width).
const BEYOND: f64 = 8.0;

/// The shapes of `shapes` (bottom first) that can be seen once all are painted
/// in order, bottom first, when one device pixel is `pixel` board units.
pub fn visible<'a, I>(shapes: I, pixel: f64) -> Vec<&'a Shape>
where
    I: DoubleEndedIterator<Item = &'a Shape>,
{
    // Anti-aliasing reaches into the pixels a shape's geometry touches; their
    // centres lie within a pixel of it. Two pixels on each side is safe.
    let pixel = if pixel.is_finite() && pixel > 0.0 { pixel } else { 1.0 };
    let reach = OUTLINE_WIDTH / 2.0 + 2.0 * pixel;
    let inset = 1.5 * pixel;
    let mut cover = Cover::new();
    let mut seen: Vec<&Shape> = Vec::new();
    for shape in shapes.rev() {
        // A text box's letters may run past its box: it is always kept.
        if shape.kind.has_body() && cover.hides(shape, reach) {
            continue;
        }
        cover.add(shape, inset);
        seen.push(shape);
    }
    seen.reverse();
    seen
}

/// Cells of the sheet wholly inside some shape's outline, a bit each.
struct Cover {
    cols: usize,
    rows: usize,
    /// 64-bit words per row.
    stride: usize,
    bits: Vec<u64>,
}

impl Cover {
    fn new() -> Cover {
        let cols = ((BOARD_WIDTH + 2.0 * BEYOND) / CELL).ceil() as usize;
        let rows = ((BOARD_HEIGHT + 2.0 * BEYOND) / CELL).ceil() as usize;
        let stride = cols.div_ceil(64);
        Cover { cols, rows, stride, bits: vec![0; stride * rows] }
    }

    /// Whether every cell that `shape`'s paint (its box, `reach` around it) meets is covered.
    fn hides(&self, shape: &Shape, reach: f64) -> bool {
        let [x0, y0, x1, y1] = shape.bounds();
        let first = |v: f64| ((v + BEYOND) / CELL).floor();
        let (c0, r0) = (first(x0 - reach), first(y0 - reach));
        let (c1, r1) = (first(x1 + reach), first(y1 + reach));
        let inside = |v: f64, n: usize| v >= 0.0 && v < n as f64;
        if !(inside(c0, self.cols) && inside(c1, self.cols) && inside(r0, self.rows) && inside(r1, self.rows)) {
            // Part of its paint falls where nothing is ever counted as covered.
            return false;
        }
        let (c0, c1) = (c0 as usize, c1 as usize);
        (r0 as usize..=r1 as usize).all(|row| self.all_set(row, c0, c1))
    }

    /// Marks the cells that lie wholly inside `shape`'s outline, `inset` from
    /// its edge. A turned shape marks none: it still hides nothing, which is
    /// safe, and boards are mostly upright. A text box marks none: only its
    /// letters are painted.
    fn add(&mut self, shape: &Shape, inset: f64) {
        if shape.rotation != 0.0 || !shape.kind.has_body() {
            return;
        }
        let outline = Outline::of(shape);
        let h = shape.h;
        let first = (((shape.y + BEYOND) / CELL).floor().max(0.0) as usize).min(self.rows);
        let last = (((shape.y + h + BEYOND) / CELL).ceil().max(0.0) as usize).min(self.rows);
        for row in first..last {
            let top = row as f64 * CELL - BEYOND - inset;
            let bottom = top + CELL + 2.0 * inset;
            // The outline is convex: a box whose top and bottom edges lie within
            // it lies within it.
            let (Some((a0, a1)), Some((b0, b1))) = (span(&outline, top), span(&outline, bottom)) else {
                continue;
            };
            let (left, right) = (a0.max(b0), a1.min(b1));
            // Cells with left - inset >= `left` and right + inset <= `right`.
            let c0 = ((left + inset + BEYOND) / CELL).ceil();
            let c1 = ((right - inset + BEYOND) / CELL).floor() - 1.0;
            if c1 < c0 || c1 < 0.0 {
                continue;
            }
            let c0 = c0.max(0.0) as usize;
            let c1 = (c1 as usize).min(self.cols - 1);
            self.set(row, c0, c1);
        }
    }

    /// The words of `row` holding cells `c0..=c1`, each with the mask of those cells.
    fn masks(&self, row: usize, c0: usize, c1: usize) -> impl Iterator<Item = (usize, u64)> + use<> {
        let base = row * self.stride;
        (c0 / 64..=c1 / 64).map(move |word| {
            let lo = if word == c0 / 64 { c0 % 64 } else { 0 };
            let hi = if word == c1 / 64 { c1 % 64 } else { 63 };
            let mask = (u64::MAX >> (63 - hi)) & (u64::MAX << lo);
            (base + word, mask)
        })
    }

    fn all_set(&self, row: usize, c0: usize, c1: usize) -> bool {
        self.masks(row, c0, c1).all(|(at, mask)| self.bits[at] & mask == mask)
    }

    fn set(&mut self, row: usize, c0: usize, c1: usize) {
        for (at, mask) in self.masks(row, c0, c1) {
            self.bits[at] |= mask;
        }
    }
}

/// Where the horizontal line at `y` crosses `outline`'s inside, if it does.
fn span(outline: &Outline, y: f64) -> Option<(f64, f64)> {
    match *outline {
        Outline::Rect { x, y: top, w, h } => (top..=top + h).contains(&y).then_some((x, x + w)),
        Outline::Ellipse { cx, cy, rx, ry } => {
            let t = (y - cy) / ry;
            (t.abs() <= 1.0).then(|| {
                let half = rx * (1.0 - t * t).sqrt();
                (cx - half, cx + half)
            })
        }
        Outline::Triangle([(ax, ay), (bx, by), (_, _)]) => {
            // Apex on top, the base level: the width grows linearly downwards.
            (ay..=by).contains(&y).then(|| {
                let half = (bx - ax) * (y - ay) / (by - ay);
                (ax - half, ax + half)
            })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{ShapeId, ShapeKind};

    fn shape(n: usize, kind: ShapeKind, x: f64, y: f64) -> Shape {
        Shape::new(ShapeId::parse(format!("s{n}")).unwrap(), kind, x, y)
    }

    fn ids(shapes: &[&Shape]) -> Vec<String> {
        shapes.iter().map(|s| s.id.to_string()).collect()
    }

    /// Four rectangles overlapping one another, over the middle of `under`, and one apart.
    fn under_four(under: Shape) -> Vec<Shape> {
        let mut shapes = vec![under];
        for (i, (x, y)) in
            [(40.0, 40.0), (160.0, 40.0), (40.0, 120.0), (160.0, 120.0), (900.0, 500.0)].into_iter().enumerate()
        {
            shapes.push(shape(i + 1, ShapeKind::Rectangle, x, y));
        }
        shapes
    }

    #[test]
    fn a_shape_under_others_is_left_out_and_the_rest_kept_in_order() {
        let shapes = under_four(shape(0, ShapeKind::Circle, 120.0, 70.0));
        let seen = visible(shapes.iter(), 0.5);
        assert_eq!(ids(&seen), ["s1", "s2", "s3", "s4", "s5"]);
        // Nothing is hidden by what lies beneath it.
        let mut upside_down = shapes.clone();
        upside_down.rotate_left(1);
        assert_eq!(visible(upside_down.iter(), 0.5).len(), 6);
    }

    #[test]
    fn a_shape_showing_at_an_edge_or_a_seam_is_kept() {
        // Only one rectangle over it: the circle's sides show.
        let shapes = [shape(0, ShapeKind::Circle, 60.0, 40.0), shape(1, ShapeKind::Rectangle, 40.0, 50.0)];
        assert_eq!(visible(shapes.iter(), 0.5).len(), 2);
        // The same shape twice: the upper one's anti-aliased edge lets the lower show through.
        let twice = [shape(0, ShapeKind::Rectangle, 300.0, 300.0), shape(1, ShapeKind::Rectangle, 300.0, 300.0)];
        assert_eq!(visible(twice.iter(), 0.5).len(), 2);
        // Rectangles that only meet, edge to edge, over the middle of the circle: the seams are kept.
        let seams = [
            shape(0, ShapeKind::Circle, 120.0, 70.0),
            shape(1, ShapeKind::Rectangle, 50.0, 50.0),
            shape(2, ShapeKind::Rectangle, 210.0, 50.0),
            shape(3, ShapeKind::Rectangle, 50.0, 150.0),
            shape(4, ShapeKind::Rectangle, 210.0, 150.0),
        ];
        assert_eq!(visible(seams.iter(), 0.5).len(), 5);
        // Under the sheet's edge nothing is counted as covered.
        let edge = [shape(0, ShapeKind::Circle, 0.0, 0.0), shape(1, ShapeKind::Rectangle, 0.0, 0.0)];
        assert_eq!(visible(edge.iter(), 0.5).len(), 2);
    }

    #[test]
    fn a_turned_shape_hides_nothing_and_is_hidden_only_whole() {
        let turned = |s: Shape| Shape { rotation: 30.0, ..s };
        // Turned on top: what is under it is kept.
        let shapes =
            [shape(0, ShapeKind::Rectangle, 100.0, 100.0), turned(shape(1, ShapeKind::Rectangle, 100.0, 100.0))];
        assert_eq!(visible(shapes.iter(), 0.5).len(), 2);
        // Turned beneath four rectangles that cover its turned box: left out.
        let small = Shape { w: 60.0, h: 30.0, ..turned(shape(0, ShapeKind::Rectangle, 130.0, 95.0)) };
        assert_eq!(ids(&visible(under_four(small).iter(), 0.5)), ["s1", "s2", "s3", "s4", "s5"]);
        // Its corners reach out beside them once turned: kept.
        let long = Shape { w: 300.0, h: 20.0, ..turned(shape(0, ShapeKind::Rectangle, 50.0, 120.0)) };
        assert_eq!(visible(under_four(long).iter(), 0.5).len(), 6);
    }

    #[test]
    fn a_text_box_hides_nothing_and_is_never_left_out() {
        let text = |s: Shape| Shape { w: 400.0, h: 300.0, ..s };
        // Over a circle: the circle shows through around its letters.
        let over = [shape(0, ShapeKind::Circle, 120.0, 70.0), text(shape(1, ShapeKind::Text, 0.0, 0.0))];
        assert_eq!(visible(over.iter(), 0.5).len(), 2);
        // Under four rectangles covering its box: kept, its letters may run past it.
        let under = under_four(shape(0, ShapeKind::Text, 130.0, 95.0));
        assert_eq!(visible(under.iter(), 0.5).len(), 6);
    }

    #[test]
    fn coarser_pixels_hide_less() {
        let shapes = under_four(shape(0, ShapeKind::Triangle, 100.0, 80.0));
        assert_eq!(visible(shapes.iter(), 1.0).len(), 5, "hidden at one unit a pixel");
        assert_eq!(visible(shapes.iter(), 12.0).len(), 6, "its outline may bleed out at twelve");
        assert_eq!(visible(shapes.iter(), f64::NAN).len(), 5, "a nonsense pixel counts as one unit");
    }

    #[test]
    fn the_spans_follow_each_outline() {
        let rect = Outline::Rect { x: 10.0, y: 20.0, w: 30.0, h: 40.0 };
        assert_eq!(span(&rect, 20.0), Some((10.0, 40.0)));
        assert_eq!(span(&rect, 61.0), None);
        let circle = Outline::Ellipse { cx: 0.0, cy: 0.0, rx: 10.0, ry: 10.0 };
        assert_eq!(span(&circle, 0.0), Some((-10.0, 10.0)));
        let (l, r) = span(&circle, 6.0).unwrap();
        assert!((l + 8.0).abs() < 1e-9 && (r - 8.0).abs() < 1e-9);
        assert_eq!(span(&circle, 10.5), None);
        let triangle = Outline::Triangle([(50.0, 0.0), (100.0, 100.0), (0.0, 100.0)]);
        assert_eq!(span(&triangle, 0.0), Some((50.0, 50.0)));
        assert_eq!(span(&triangle, 50.0), Some((25.0, 75.0)));
        assert_eq!(span(&triangle, -1.0), None);
    }
}
