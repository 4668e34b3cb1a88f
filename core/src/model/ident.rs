//! Validated names: rooms, shapes and clients.
//!
//! All three arrive from untrusted clients, so each is a newtype that can only
//! be built (or deserialised) through the same check: 1 to 64 characters of
//! `A-Z a-z 0-9 - _`. That keeps them safe in URLs, logs and storage keys.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest name accepted for a room, shape or client.
pub const MAX_IDENT_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_IDENT_LEN} characters")]
    TooLong,
    #[error("may only contain the letters A-Z and a-z, digits, '-' and '_'")]
    BadCharacter,
}

/// The rule as an HTML `pattern` attribute, so a form refuses what the server
/// would (the server checks again, of course).
pub fn ident_pattern() -> String {
    format!("[A-Za-z0-9_\\-]{{1,{MAX_IDENT_LEN}}}")
}

/// The rule in a few words, for a form field's hint.
pub fn ident_rule() -> String {
    format!("1 to {MAX_IDENT_LEN} letters, digits, - or _")
}

fn check(s: &str) -> Result<(), IdentError> {
    if s.is_empty() {
        Err(IdentError::Empty)
    } else if s.len() > MAX_IDENT_LEN {
        Err(IdentError::TooLong)
    } else if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        Err(IdentError::BadCharacter)
    } else {
        Ok(())
    }
}

macro_rules! ident_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: impl Into<String>) -> Result<Self, IdentError> {
                let s = s.into();
                check(&s)?;
                Ok(Self(s))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdentError;
            fn try_from(s: String) -> Result<Self, IdentError> {
                Self::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

ident_type!(
    /// A room's name, as it appears in `/r/{room}`.
    RoomName
);
ident_type!(
    /// A shape's id, chosen by the client that creates it, unique in its room.
    ShapeId
);
ident_type!(
    /// A browser tab's id, chosen by the tab; confirmations name it.
    ClientId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allowed_alphabet() {
        assert!(RoomName::parse("Design-review_2").is_ok());
        assert!(RoomName::parse("a".repeat(64)).is_ok());
    }

    #[test]
    fn rejects_everything_else() {
        assert_eq!(RoomName::parse(""), Err(IdentError::Empty));
        assert_eq!(RoomName::parse("a".repeat(65)), Err(IdentError::TooLong));
        for bad in ["a b", "a/b", "é", "<script>", "a.b", "../x", "a%20"] {
            assert_eq!(RoomName::parse(bad), Err(IdentError::BadCharacter), "{bad}");
        }
    }

    #[test]
    fn the_html_pattern_states_the_same_rule() {
        assert_eq!(ident_pattern(), "[A-Za-z0-9_\\-]{1,64}");
    }

    #[test]
    fn deserialising_validates() {
        assert!(serde_json::from_str::<ShapeId>("\"ok-1\"").is_ok());
        assert!(serde_json::from_str::<ShapeId>("\"not ok\"").is_err());
        assert!(serde_json::from_str::<ShapeId>("\"\"").is_err());
    }
}
