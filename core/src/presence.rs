//! Presence: who is in a room, where each tab points and what it holds.
//!
//! Presence is a channel of its own beside the room's changes: it is never
//! stored, never numbered in the room's sequence, and never a reason to
//! resynchronise. Only the latest of each kind counts, so a server under
//! pressure keeps one message per tab and kind and drops the rest.
//!
//! This module holds what both ends share: the display name's rule and the
//! limits. `roster` is a tab's picture of the others, built from these.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{BOARD_HEIGHT, BOARD_WIDTH};

/// The longest display name, in characters (after trimming).
pub const MAX_NAME_CHARS: usize = 32;
/// The most shape ids one `selection` message may carry: a bigger selection
/// is shown to the others by its first this many shapes.
pub const MAX_SHOWN_SELECTION: usize = 500;
/// The person colours, readable on the white board and kept apart from the
/// shapes' light fills (index = a person's `color`).
pub const PERSON_PALETTE: [&str; 8] =
    ["#e03131", "#1971c2", "#2f9e44", "#e8590c", "#9c36b5", "#0c8599", "#d6336c", "#5c940d"];
/// How many person colours there are: distinct among the people in a room
/// while there are no more people than this.
pub const PERSON_COLORS: u8 = PERSON_PALETTE.len() as u8;
/// The least time between two presence updates a tab sends (30 a second).
pub const SEND_EVERY_MS: f64 = 1000.0 / 30.0;
/// A pointer still for this long is hidden until it moves again.
pub const STILL_HIDE_MS: f64 = 10_000.0;

/// A person's display name: 1 to `MAX_NAME_CHARS` characters once trimmed, no
/// control characters. Shown as text, never as markup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

/// Why a display name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a name must not be empty")]
    Empty,
    #[error("a name must be at most {MAX_NAME_CHARS} characters")]
    TooLong,
    #[error("a name must not contain control characters")]
    Control,
}

impl DisplayName {
    pub fn parse(s: &str) -> Result<DisplayName, NameError> {
        let s = s.trim();
        if s.is_empty() {
            Err(NameError::Empty)
        } else if s.chars().count() > MAX_NAME_CHARS {
            Err(NameError::TooLong)
        } else if s.chars().any(char::is_control) {
            Err(NameError::Control)
        } else {
            Ok(DisplayName(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, NameError> {
        DisplayName::parse(&s)
    }
}

impl From<DisplayName> for String {
    fn from(name: DisplayName) -> String {
        name.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A point on the board, `[x, y]`.
pub type Point = [f64; 2];

/// Whether `at` is a point a pointer can be at: finite, on the board.
pub fn on_board([x, y]: Point) -> bool {
    (0.0..=BOARD_WIDTH).contains(&x) && (0.0..=BOARD_HEIGHT).contains(&y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Blue Otter ").unwrap().as_str(), "Blue Otter");
        assert_eq!(DisplayName::parse("   "), Err(NameError::Empty));
        assert!(DisplayName::parse(&"é".repeat(MAX_NAME_CHARS)).is_ok(), "characters, not bytes");
        assert_eq!(DisplayName::parse(&"a".repeat(MAX_NAME_CHARS + 1)), Err(NameError::TooLong));
        assert_eq!(DisplayName::parse("a\u{7}b"), Err(NameError::Control));
        assert!(serde_json::from_str::<DisplayName>(r#""""#).is_err());
    }
}
