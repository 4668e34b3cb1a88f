//! What kind a shape is (its outline, its size and colour when new) and how
//! big its text is drawn.

use serde::{Deserialize, Serialize};

use super::color::Color;

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
