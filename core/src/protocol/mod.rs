//! The wire protocol between a browser tab and its room: JSON text frames over
//! one WebSocket at `/ws/{room}`, and the close codes that end one.
//! `docs/protocol.md` is the prose version of this folder; keep the two in step
//! (`core/tests/docs.rs` checks that every error and close code is there).
//!
//! `limits.rs`: the version and the limits; `messages.rs`: what each side
//! sends, checked at the edge; `errors.rs`: error and close codes; `read.rs`:
//! reading the server's messages tag first; `parts.rs`: changes too large for
//! one message, cut into parts.

mod errors;
mod limits;
mod messages;
mod parts;
mod read;

pub use errors::{ErrorCode, close};
pub use limits::{
    BUILD, MAX_BUILD_LEN, MAX_MESSAGE_BYTES, MAX_OP, MAX_OP_JUMP, MAX_PARTS, PROTOCOL_VERSION, SHAPES_PER_PART,
};
pub use messages::{BadMessage, ClientMsg, Position, ServerMsg};
pub use parts::{ALWAYS_FITS_PARTS, LONGEST_CHANGE, in_parts};

#[cfg(test)]
mod tests;
