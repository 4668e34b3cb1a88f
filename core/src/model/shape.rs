//! A shape: one of five kinds, at a position, of a size, turned, in a colour
//! and on a layer.

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize};

use super::color::Color;
use super::frame::{corners, quad_meets_rect, turn};
use super::ident::ShapeId;
use super::text::{Run, Text, TextError};

/// The most shapes one room may hold.
pub const MAX_SHAPES: usize = 10_000;
/// How far from 0 a layer may go: bringing a shape to the front one step above
/// the top, twice a second for a thousand years, stays well inside, and every
/// layer is an integer a browser's JSON reads exactly (below 2^53).
pub const MAX_LAYER: i64 = 1 << 40;

/// The smallest a side of a shape may be, in board units: big enough to see
/// and to grab.
pub const MIN_SIDE: f64 = 10.0;

/// The kinds of shape. A note is a sticky note: a square in a note colour,
/// made to be written in; it is drawn, picked and turned as a rectangle. A
/// text is a text box: only its text is drawn (in its colour), with no fill
/// or outline, its lines never wrapped, and the box grows with the text as
/// it is written (`lettering::fitted`); it is picked by its box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShapeKind {
    Rectangle,
    Triangle,
    Circle,
    Note,
    Text,
}

impl ShapeKind {
    pub const ALL: [ShapeKind; 5] =
        [ShapeKind::Rectangle, ShapeKind::Triangle, ShapeKind::Circle, ShapeKind::Note, ShapeKind::Text];
    /// The kinds the toolbar's shape buttons add at a free spot (a text box
    /// is placed where one clicks with the Text tool instead).
    pub const ADDED: [ShapeKind; 4] = [ShapeKind::Rectangle, ShapeKind::Triangle, ShapeKind::Circle, ShapeKind::Note];

    /// The width and height a new shape of this kind has (what the toolbar's
    /// buttons add, and what shapes recorded before sizes had), in board units.
    pub fn size(self) -> (f64, f64) {
        match self {
            ShapeKind::Rectangle => (160.0, 100.0),
            ShapeKind::Triangle => (140.0, 120.0),
            ShapeKind::Circle => (120.0, 120.0),
            ShapeKind::Note => (200.0, 200.0),
            // An empty text box of size M: room for the caret, one line high
            // (`lettering::fitted`).
            ShapeKind::Text => (28.0, 46.0),
        }
    }

    /// The kind's name in code and CSS (as on the wire).
    pub fn css_name(self) -> &'static str {
        match self {
            ShapeKind::Rectangle => "rectangle",
            ShapeKind::Triangle => "triangle",
            ShapeKind::Circle => "circle",
            ShapeKind::Note => "note",
            ShapeKind::Text => "text",
        }
    }

    /// The name people read: on the toolbar and in the canvas's text alternative.
    pub fn label(self) -> &'static str {
        match self {
            ShapeKind::Rectangle => "Rectangle",
            ShapeKind::Triangle => "Triangle",
            ShapeKind::Circle => "Circle",
            ShapeKind::Note => "Note",
            ShapeKind::Text => "Text",
        }
    }

    /// The colour a shape of this kind has until someone picks one: the look
    /// every shape had before shapes had colours.
    pub fn default_color(self) -> Color {
        match self {
            ShapeKind::Rectangle => Color::Blue,
            ShapeKind::Triangle => Color::Orange,
            ShapeKind::Circle => Color::Green,
            ShapeKind::Note => Color::Yellow,
            // Its letters in grey's dark shade (`lettering::ink`).
            ShapeKind::Text => Color::Grey,
        }
    }

    /// Whether a shape of this kind is drawn with a fill and an outline (a
    /// text box is only its text: it hides nothing under it, and its text
    /// is not cut off at its box).
    pub fn has_body(self) -> bool {
        self != ShapeKind::Text
    }
}

/// How big a shape's text is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSize {
    S,
    #[default]
    M,
    L,
    Xl,
}

impl TextSize {
    pub const ALL: [TextSize; 4] = [TextSize::S, TextSize::M, TextSize::L, TextSize::Xl];

    /// Its name on the **Text size** buttons.
    pub fn name(self) -> &'static str {
        match self {
            TextSize::S => "S",
            TextSize::M => "M",
            TextSize::L => "L",
            TextSize::Xl => "XL",
        }
    }

    /// The font's size, in board units.
    pub fn units(self) -> f64 {
        match self {
            TextSize::S => 16.0,
            TextSize::M => 24.0,
            TextSize::L => 36.0,
            TextSize::Xl => 48.0,
        }
    }
}

/// A shape on a board. `x` and `y` are the top-left corner of its box of `w`
/// × `h` before it is turned `rotation` degrees clockwise about its centre
/// (`frame`).
///
/// In JSON, its `text` is what it shows, and `chars` the ids of its
/// characters in order, erased ones too (`text::Text`), as runs `[writer,
/// first, count, erased]`; both are left out when there are none, and a
/// `text` without `chars` (a file, a shape made with its text) is numbered
/// as text that arrived whole.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "ShapeRecord")]
pub struct Shape {
    pub id: ShapeId,
    pub kind: ShapeKind,
    pub x: f64,
    pub y: f64,
    /// Its size, in board units: `MIN_SIDE` up to the board's.
    pub w: f64,
    pub h: f64,
    /// Degrees clockwise, 0 ≤ r < 360. Left out of the JSON when 0.
    pub rotation: f64,
    /// Its fill; none yet is its kind's own colour (`fill()`). Left out of
    /// the JSON when none, so boards from before colours read as they were.
    pub color: Option<Color>,
    /// Its layer: a higher one is drawn above a lower one; within one layer,
    /// shapes keep the order they arrived in. Left out of the JSON when 0.
    pub z: i64,
    /// What is written on it.
    pub text: Text,
    /// How big its text is drawn. Left out of the JSON when `M`.
    pub text_size: TextSize,
}

/// One run of a text's character ids: `[writer, first, count, erased]`.
type RunRecord = (u32, u32, u32, u8);

impl Serialize for Shape {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Shape", 12)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("kind", &self.kind)?;
        out.serialize_field("x", &self.x)?;
        out.serialize_field("y", &self.y)?;
        out.serialize_field("w", &self.w)?;
        out.serialize_field("h", &self.h)?;
        if self.rotation != 0.0 {
            out.serialize_field("rotation", &self.rotation)?;
        }
        if let Some(color) = self.color {
            out.serialize_field("color", &color)?;
        }
        if self.z != 0 {
            out.serialize_field("z", &self.z)?;
        }
        if !self.text.is_empty() {
            out.serialize_field("text", &self.text.shown())?;
        }
        if self.text.kept() > 0 {
            let runs: Vec<RunRecord> =
                self.text.runs().into_iter().map(|(Run(w, n, len), gone)| (w, n, len, u8::from(gone))).collect();
            out.serialize_field("chars", &runs)?;
        }
        if self.text_size != TextSize::M {
            out.serialize_field("text_size", &self.text_size)?;
        }
        out.end()
    }
}

/// A shape as it is read: without a size (written before shapes had one) it
/// has its kind's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShapeRecord {
    id: ShapeId,
    kind: ShapeKind,
    x: f64,
    y: f64,
    #[serde(default)]
    w: Option<f64>,
    #[serde(default)]
    h: Option<f64>,
    #[serde(default)]
    rotation: f64,
    #[serde(default)]
    color: Option<Color>,
    #[serde(default)]
    z: i64,
    #[serde(default)]
    text: String,
    #[serde(default)]
    chars: Option<Vec<RunRecord>>,
    #[serde(default)]
    text_size: TextSize,
}

impl TryFrom<ShapeRecord> for Shape {
    type Error = TextError;

    fn try_from(r: ShapeRecord) -> Result<Shape, TextError> {
        let (w, h) = r.kind.size();
        let text = match r.chars {
            None => Text::whole(&r.text)?,
            Some(runs) => {
                let runs: Vec<(Run, bool)> =
                    runs.into_iter().map(|(w, n, len, gone)| (Run(w, n, len), gone != 0)).collect();
                Text::from_parts(&r.text, &runs)?
            }
        };
        Ok(Shape {
            id: r.id,
            kind: r.kind,
            x: r.x,
            y: r.y,
            w: r.w.unwrap_or(w),
            h: r.h.unwrap_or(h),
            rotation: r.rotation,
            color: r.color,
            z: r.z,
            text,
            text_size: r.text_size,
        })
    }
}

impl Shape {
    /// A shape of its kind's size and colour, upright, on the bottom layer.
    pub fn new(id: ShapeId, kind: ShapeKind, x: f64, y: f64) -> Shape {
        let (w, h) = kind.size();
        Shape { id, kind, x, y, w, h, rotation: 0.0, color: None, z: 0, text: Text::default(), text_size: TextSize::M }
    }

    /// The same shape with its text as text that arrived whole (writer 0, no
    /// erased characters): what a new shape made from this one carries, so
    /// that it travels small.
    pub fn with_whole_text(&self) -> Shape {
        let text = if self.text.kept() == self.text.len() && self.text.runs().len() <= 1 {
            self.text.clone()
        } else {
            Text::whole(&self.text.shown()).unwrap_or_default()
        };
        Shape { text, ..self.clone() }
    }

    /// The colour it is drawn in.
    pub fn fill(&self) -> Color {
        self.color.unwrap_or(self.kind.default_color())
    }

    /// Its width and height, before turning.
    pub fn size(&self) -> (f64, f64) {
        (self.w, self.h)
    }

    /// Its box before turning: `x`, `y`, `w`, `h`.
    pub fn frame(&self) -> [f64; 4] {
        [self.x, self.y, self.w, self.h]
    }

    /// The centre it turns about.
    pub fn centre(&self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    /// The corners of its turned box: top-left, top-right, bottom-right,
    /// bottom-left as they were before turning.
    pub fn corners(&self) -> [(f64, f64); 4] {
        corners(self.x, self.y, self.w, self.h, self.rotation)
    }

    /// The upright rectangle [x0, y0, x1, y1] its turned box fits in.
    pub fn bounds(&self) -> [f64; 4] {
        if self.rotation == 0.0 {
            return [self.x, self.y, self.x + self.w, self.y + self.h];
        }
        super::frame::bounds_of(&self.corners())
    }

    /// Whether its turned box meets the rectangle [x0, y0, x1, y1] (a
    /// selection rectangle selects what it touches).
    pub fn meets(&self, rect: [f64; 4]) -> bool {
        if self.rotation == 0.0 {
            let [x0, y0, x1, y1] = rect;
            return self.x <= x1 && self.x + self.w >= x0 && self.y <= y1 && self.y + self.h >= y0;
        }
        quad_meets_rect(&self.corners(), rect)
    }

    /// Whether the point (`px`, `py`) lies on the shape itself, not just its box:
    /// a click in the corner beside a circle or triangle misses it.
    pub fn contains(&self, px: f64, py: f64) -> bool {
        // Turned back about the centre, the point meets the upright shape.
        let (px, py) = turn((px, py), self.centre(), -self.rotation);
        let (w, h) = (self.w, self.h);
        let (lx, ly) = (px - self.x, py - self.y);
        if !(0.0..=w).contains(&lx) || !(0.0..=h).contains(&ly) {
            return false;
        }
        match self.kind {
            ShapeKind::Rectangle | ShapeKind::Note | ShapeKind::Text => true,
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
#[path = "shape_tests.rs"]
mod tests;
