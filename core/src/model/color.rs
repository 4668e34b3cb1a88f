//! The fill colours a shape can take: a fixed, named palette, so every screen
//! shows the same colour and the text alternative can say which it is. How
//! each looks on the canvas is the client's business (`client/canvas.rs`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Color {
    Red,
    Orange,
    Yellow,
    Green,
    Teal,
    Blue,
    Violet,
    Pink,
    Grey,
}

impl Color {
    /// The palette, in the order the colour picker shows it.
    pub const ALL: [Color; 9] = [
        Color::Red,
        Color::Orange,
        Color::Yellow,
        Color::Green,
        Color::Teal,
        Color::Blue,
        Color::Violet,
        Color::Pink,
        Color::Grey,
    ];

    /// The name on the wire and in running text ("a red circle").
    pub fn name(self) -> &'static str {
        match self {
            Color::Red => "red",
            Color::Orange => "orange",
            Color::Yellow => "yellow",
            Color::Green => "green",
            Color::Teal => "teal",
            Color::Blue => "blue",
            Color::Violet => "violet",
            Color::Pink => "pink",
            Color::Grey => "grey",
        }
    }

    /// The name on its own, as a button says it.
    pub fn label(self) -> &'static str {
        match self {
            Color::Red => "Red",
            Color::Orange => "Orange",
            Color::Yellow => "Yellow",
            Color::Green => "Green",
            Color::Teal => "Teal",
            Color::Blue => "Blue",
            Color::Violet => "Violet",
            Color::Pink => "Pink",
            Color::Grey => "Grey",
        }
    }

    /// Fill and outline: a light fill with a darker edge of the same hue,
    /// readable on the white board and under the black selection text. The
    /// end-to-end and picture tests read these pixels.
    pub fn paint(self) -> (&'static str, &'static str) {
        match self {
            Color::Red => ("#ffc9c9", "#e03131"),
            Color::Orange => ("#ffd8a8", "#e8590c"),
            Color::Yellow => ("#ffec99", "#f08c00"),
            Color::Green => ("#b2f2bb", "#2f9e44"),
            Color::Teal => ("#96f2d7", "#099268"),
            Color::Blue => ("#a5d8ff", "#1c7ed6"),
            Color::Violet => ("#d0bfff", "#6741d9"),
            Color::Pink => ("#fcc2d7", "#c2255c"),
            Color::Grey => ("#dee2e6", "#495057"),
        }
    }

    /// The colour named `name` (as `name()` writes it).
    pub fn parse(name: &str) -> Option<Color> {
        Color::ALL.into_iter().find(|c| c.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_the_wire() {
        for color in Color::ALL {
            assert_eq!(Color::parse(color.name()), Some(color));
            assert_eq!(serde_json::to_string(&color).unwrap(), format!("\"{}\"", color.name()));
            assert_eq!(color.label().to_lowercase(), color.name());
        }
        assert_eq!(Color::parse("mauve"), None);
        assert!(serde_json::from_str::<Color>("\"mauve\"").is_err(), "only the palette");
    }
}
