//! The shared model: what a board is and how it changes.
//!
//! Everything here is plain Rust compiled into both builds, so the server (which
//! orders and records changes) and the browser (which predicts them) apply a
//! change with the very same code. Nothing here does I/O.

mod board;
mod change;
mod color;
pub mod frame;
mod ident;
mod replica;
mod restore;
mod shape;
pub mod text;

pub use board::{BOARD_HEIGHT, BOARD_WIDTH, Board, clamp_offset, clamp_size, clamp_to_board, size_fits};
pub use change::{Change, ChangeError, MAX_BATCH, MAX_BOARD_TEXT};
pub use color::Color;
pub use ident::{ClientId, IdentError, MAX_IDENT_LEN, RoomName, ShapeId, ident_pattern, ident_rule};
pub use replica::{Replica, ReplicaError, Unsent};
pub use restore::changes_between;
pub use shape::{MAX_LAYER, MAX_SHAPES, MIN_SIDE, Shape, ShapeKind, TextSize};
pub use text::{CharId, Run, Text, TextError};

/// Small builders the unit tests of this crate share.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::{Change, Shape, ShapeId, ShapeKind};

    pub(crate) fn id(s: &str) -> ShapeId {
        ShapeId::parse(s).unwrap()
    }

    /// A rectangle created at (`x`, 0).
    pub(crate) fn create(name: &str, x: f64) -> Change {
        Change::Create { shape: Shape::new(id(name), ShapeKind::Rectangle, x, 0.0) }
    }
}
