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

/// The most combining marks (accents and the like) one character may carry
/// in a name: enough for any script's real letters, not for a tower of 32.
pub const MAX_MARKS: usize = 4;

/// A person's display name: 1 to `MAX_NAME_CHARS` characters once trimmed,
/// one line, no control characters, no bidirectional controls (which reorder
/// how the text around them shows), something visible. Shown as text, never
/// as markup. With the feature `unicode` (the server's build) it is also put
/// in NFC and a character may carry at most `MAX_MARKS` combining marks: the
/// server is the one that must refuse, and the browser's bundle is spared the
/// tables.
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
    #[error("a name must be one line (no line or paragraph separators)")]
    LineBreak,
    #[error("a name must not contain bidirectional controls: they change how the text around them reads")]
    Bidi,
    #[error("a name must show something: it holds only invisible characters")]
    Invisible,
    #[error("a name's characters may carry at most {MAX_MARKS} accents or other combining marks each")]
    Marks,
}

/// Unicode's Bidi_Control characters: marks, embeddings, overrides, isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing by themselves (Unicode's Default_Ignorable_Code_Point, and the
/// blank fillers): a name made only of these (and spaces) would show as nobody.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// The name in NFC (server build), as typed otherwise.
#[cfg(feature = "unicode")]
fn normalised(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfc().collect()
}

#[cfg(not(feature = "unicode"))]
fn normalised(s: &str) -> String {
    s.to_owned()
}

/// Whether some character carries more than `MAX_MARKS` combining marks (server build).
#[cfg(feature = "unicode")]
fn too_many_marks(s: &str) -> bool {
    let mut run = 0;
    s.chars().any(|c| {
        run = if unicode_normalization::char::is_combining_mark(c) { run + 1 } else { 0 };
        run > MAX_MARKS
    })
}

#[cfg(not(feature = "unicode"))]
fn too_many_marks(_: &str) -> bool {
    false
}

impl DisplayName {
    pub fn parse(s: &str) -> Result<DisplayName, NameError> {
        let s = normalised(s.trim());
        if s.is_empty() {
            Err(NameError::Empty)
        } else if s.chars().count() > MAX_NAME_CHARS {
            Err(NameError::TooLong)
        } else if s.contains(['\u{2028}', '\u{2029}']) {
            Err(NameError::LineBreak)
        } else if s.chars().any(char::is_control) {
            Err(NameError::Control)
        } else if s.chars().any(is_bidi_control) {
            Err(NameError::Bidi)
        } else if s.chars().all(is_invisible) {
            Err(NameError::Invisible)
        } else if too_many_marks(&s) {
            Err(NameError::Marks)
        } else {
            Ok(DisplayName(s))
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

    /// Names that would show as something other than what they are.
    #[test]
    fn names_that_lie_are_refused_and_say_why() {
        for (name, why) in [
            ("Bob \u{202E}gnp.exe", NameError::Bidi),
            ("\u{2067}Eve\u{2069}", NameError::Bidi),
            ("Ann\u{200F}", NameError::Bidi),
            ("\u{200B}", NameError::Invisible),
            ("\u{FEFF}", NameError::Invisible),
            ("\u{200B}\u{200D} \u{2060}", NameError::Invisible),
            ("two\u{2028}lines", NameError::LineBreak),
            ("two\u{2029}paragraphs", NameError::LineBreak),
        ] {
            assert_eq!(DisplayName::parse(name), Err(why.clone()), "{name:?}");
            assert!(!why.to_string().is_empty());
        }
        // Real names with joiners and marks stay.
        for name in ["👩\u{200D}💻 Dev", "Nguyễn", "क्षत्रिय", "Zoë"] {
            assert!(DisplayName::parse(name).is_ok(), "{name:?}");
        }
    }

    #[cfg(feature = "unicode")]
    #[test]
    fn names_are_normalised_and_towers_of_accents_refused() {
        let decomposed = "Zoe\u{0308}";
        assert_eq!(DisplayName::parse(decomposed).unwrap().as_str(), "Zo\u{00EB}", "NFC");
        let tower = format!("a{}", "\u{0301}".repeat(32));
        assert_eq!(DisplayName::parse(&tower), Err(NameError::Marks));
        assert!(DisplayName::parse(&format!("a{}", "\u{0301}\u{0323}".repeat(2))).is_ok(), "four marks are fine");
    }
}
