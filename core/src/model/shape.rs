//! A shape: one of three kinds, each with a fixed size, at a position, in a
//! colour and on a layer.

use serde::{Deserialize, Serialize};

use super::color::Color;
use super::ident::ShapeId;

/// The most shapes one room may hold.
pub const MAX_SHAPES: usize = 10_000;
/// How far from 0 a layer may go: bringing a shape to the front one step above
/// the top, twice a second for a thousand years, stays well inside, and every
/// layer is an integer a browser's JSON reads exactly (below 2^53).
pub const MAX_LAYER: i64 = 1 << 40;

/// The three kinds of shape. Each has one fixed size, as the original exercise asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShapeKind {
    Rectangle,
    Triangle,
    Circle,
}

impl ShapeKind {
    pub const ALL: [ShapeKind; 3] = [ShapeKind::Rectangle, ShapeKind::Triangle, ShapeKind::Circle];

    /// Width and height of the shape's bounding box, in board units.
    pub fn size(self) -> (f64, f64) {
        match self {
            ShapeKind::Rectangle => (160.0, 100.0),
            ShapeKind::Triangle => (140.0, 120.0),
            ShapeKind::Circle => (120.0, 120.0),
        }
    }

    /// The kind's name in code and CSS (as on the wire).
    pub fn css_name(self) -> &'static str {
        match self {
            ShapeKind::Rectangle => "rectangle",
            ShapeKind::Triangle => "triangle",
            ShapeKind::Circle => "circle",
        }
    }

    /// The name people read: on the toolbar and in the canvas's text alternative.
    pub fn label(self) -> &'static str {
        match self {
            ShapeKind::Rectangle => "Rectangle",
            ShapeKind::Triangle => "Triangle",
            ShapeKind::Circle => "Circle",
        }
    }

    /// The colour a shape of this kind has until someone picks one: the look
    /// every shape had before shapes had colours.
    pub fn default_color(self) -> Color {
        match self {
            ShapeKind::Rectangle => Color::Blue,
            ShapeKind::Triangle => Color::Orange,
            ShapeKind::Circle => Color::Green,
        }
    }
}

/// A shape on a board. `x` and `y` are the top-left corner of its bounding box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    pub id: ShapeId,
    pub kind: ShapeKind,
    pub x: f64,
    pub y: f64,
    /// Its fill; none yet is its kind's own colour (`fill()`). Left out of
    /// the JSON when none, so boards from before colours read as they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<Color>,
    /// Its layer: a higher one is drawn above a lower one; within one layer,
    /// shapes keep the order they arrived in. Left out of the JSON when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub z: i64,
}

fn is_zero(z: &i64) -> bool {
    *z == 0
}

impl Shape {
    /// A shape in its kind's colour, on the bottom layer.
    pub fn new(id: ShapeId, kind: ShapeKind, x: f64, y: f64) -> Shape {
        Shape { id, kind, x, y, color: None, z: 0 }
    }

    /// The colour it is drawn in.
    pub fn fill(&self) -> Color {
        self.color.unwrap_or(self.kind.default_color())
    }

    /// Whether its box meets the rectangle [x0, y0, x1, y1] (a selection
    /// rectangle selects what it touches).
    pub fn meets(&self, [x0, y0, x1, y1]: [f64; 4]) -> bool {
        let (w, h) = self.kind.size();
        self.x <= x1 && self.x + w >= x0 && self.y <= y1 && self.y + h >= y0
    }

    /// Whether the point (`px`, `py`) lies on the shape itself, not just its box:
    /// a click in the corner beside a circle or triangle misses it.
    pub fn contains(&self, px: f64, py: f64) -> bool {
        let (w, h) = self.kind.size();
        let (lx, ly) = (px - self.x, py - self.y);
        if !(0.0..=w).contains(&lx) || !(0.0..=h).contains(&ly) {
            return false;
        }
        match self.kind {
            ShapeKind::Rectangle => true,
            ShapeKind::Circle => {
                let (rx, ry) = (w / 2.0, h / 2.0);
                let (dx, dy) = ((lx - rx) / rx, (ly - ry) / ry);
                dx * dx + dy * dy <= 1.0
            }
            // Apex at the top middle, base along the bottom: the point is inside when
            // its distance from the centre line is within the half-width at its height.
            ShapeKind::Triangle => (lx - w / 2.0).abs() <= (w / 2.0) * (ly / h),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(kind: ShapeKind) -> Shape {
        Shape::new(ShapeId::parse("s").unwrap(), kind, 100.0, 100.0)
    }

    #[test]
    fn rectangle_hits_its_whole_box() {
        let s = at(ShapeKind::Rectangle);
        assert!(s.contains(100.0, 100.0));
        assert!(s.contains(260.0, 200.0));
        assert!(!s.contains(261.0, 150.0));
        assert!(!s.contains(99.0, 150.0));
    }

    #[test]
    fn circle_misses_its_corners() {
        let s = at(ShapeKind::Circle);
        assert!(s.contains(160.0, 160.0));
        assert!(!s.contains(102.0, 102.0));
        assert!(s.contains(100.5, 160.0));
    }

    #[test]
    fn a_rectangle_meets_what_it_touches() {
        let s = at(ShapeKind::Circle); // box 100..220 × 100..220
        assert!(s.meets([0.0, 0.0, 100.0, 100.0]), "a corner touching");
        assert!(s.meets([150.0, 150.0, 160.0, 160.0]), "inside");
        assert!(!s.meets([0.0, 0.0, 99.0, 500.0]), "left of it");
    }

    #[test]
    fn triangle_is_narrow_at_the_top() {
        let s = at(ShapeKind::Triangle);
        assert!(s.contains(170.0, 101.0), "apex");
        assert!(!s.contains(110.0, 110.0), "beside the apex");
        assert!(s.contains(101.0, 219.0), "bottom-left corner");
    }
}
