//! Why a message was refused (`ErrorCode`, each code's wire name written
//! once), and the WebSocket close codes that end a connection.

use serde::{Deserialize, Serialize};

use crate::model::{ChangeError, TextError};

/// Defines `ErrorCode` with each code's name on the wire written once: serde
/// reads and writes it, `as_str` gives it, `ALL` lists every code.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $code:ident = $wire:literal,)*) => {
        /// Machine-readable reasons for an `error` message.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum ErrorCode {
            $($(#[$doc])* #[serde(rename = $wire)] $code,)*
        }

        impl ErrorCode {
            /// Every code.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$code),*];

            /// The code as it is written on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$code => $wire,)*
                }
            }
        }
    };
}

error_codes! {
    /// Not JSON, not a known message type, or a field of the wrong kind.
    BadMessage = "bad_message",
    /// The message is larger than `MAX_MESSAGE_BYTES`.
    MessageTooLarge = "message_too_large",
    /// The client speaks another protocol version: reload the page.
    VersionMismatch = "version_mismatch",
    /// A change arrived before `hello`, or a second `hello` did.
    HelloFirst = "hello_first",
    /// A position outside the board, or not a finite number.
    OutOfBounds = "out_of_bounds",
    UnknownShape = "unknown_shape",
    DuplicateShape = "duplicate_shape",
    TooManyShapes = "too_many_shapes",
    /// A batch that is empty, holds more than `MAX_BATCH` changes, or holds a
    /// batch. (A batch refused for one of its changes gets that change's code.)
    BadBatch = "bad_batch",
    /// A layer beyond ±`MAX_LAYER`.
    BadLayer = "bad_layer",
    /// A width or height below `MIN_SIDE` or beyond the board's, or not a number.
    BadSize = "bad_size",
    /// A rotation outside 0 ≤ r < 360 degrees, or not a number.
    BadRotation = "bad_rotation",
    /// Text past its limits: 5,000 characters shown in a shape, as many kept
    /// as a shape or a board may keep.
    TextTooLong = "text_too_long",
    /// A text edit naming a character that is not there, reusing an id,
    /// empty, or with control characters.
    BadText = "bad_text",
    /// The `op` is not above the last one this room accepted from this
    /// client: it was applied before (or refused before) and is not applied again.
    StaleOp = "stale_op",
    /// The `op` is more than `MAX_OP_JUMP` above the last one this room
    /// accepted from this client: not applied.
    OpTooFar = "op_too_far",
    /// The connection sends faster than the server's limit: its messages are
    /// now read at the limited rate (nothing is dropped). Sent once per episode.
    RateLimited = "rate_limited",
    /// The room has as many members as it allows (then close 4004).
    RoomFull = "room_full",
    /// The server has as many rooms open as it allows (then close 4005).
    ServerBusy = "server_busy",
    /// This client's address opened or created as many rooms as one address
    /// may in a while: a join is closed with 4006, a room's first change refused.
    TooManyRooms = "too_many_rooms",
    /// A change sent on a view-only connection: never applied.
    ReadOnly = "read_only",
    /// The server is taking in as many changes sent in parts as it has room
    /// for: this one was not applied; send it again in a moment.
    Busy = "busy",
}

impl ErrorCode {
    pub fn for_change_error(e: &ChangeError) -> Self {
        match e.root() {
            ChangeError::UnknownShape(_) => ErrorCode::UnknownShape,
            ChangeError::DuplicateShape(_) => ErrorCode::DuplicateShape,
            ChangeError::OutOfBounds { .. } => ErrorCode::OutOfBounds,
            ChangeError::TooManyShapes => ErrorCode::TooManyShapes,
            ChangeError::BatchSize(_) | ChangeError::NestedBatch | ChangeError::InBatch { .. } => ErrorCode::BadBatch,
            ChangeError::LayerOutOfRange(_) => ErrorCode::BadLayer,
            ChangeError::BadSize { .. } => ErrorCode::BadSize,
            ChangeError::BadRotation(_) => ErrorCode::BadRotation,
            ChangeError::Text { source: TextError::TooLong(_) | TextError::TooMuchKept, .. }
            | ChangeError::BoardTextFull => ErrorCode::TextTooLong,
            ChangeError::Text { .. } => ErrorCode::BadText,
            ChangeError::LayersOutOfOrder => ErrorCode::BadMessage,
        }
    }
}

/// WebSocket close codes the server uses; `docs/protocol.md` lists them.
pub mod close {
    /// The client broke the WebSocket protocol (a bad frame).
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text frame that is not valid UTF-8.
    pub const INVALID_DATA: u16 = 1007;
    /// The message was larger than the limit.
    pub const TOO_LARGE: u16 = 1009;
    /// The server is shutting down (standard code): reconnect with backoff.
    pub const RESTARTING: u16 = 1012;
    /// Too busy for what was sent (after `busy`; standard code): reconnect
    /// later and send it again.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// The room dropped this connection (it fell behind, or the room restarted):
    /// reconnect, and the welcome snapshot resynchronises.
    pub const RESYNC: u16 = 4000;
    /// No `hello` in time, or a protocol version this server does not speak.
    pub const HANDSHAKE: u16 = 4001;
    /// The room could not be loaded.
    pub const UNAVAILABLE: u16 = 4002;
    /// Nothing was heard from the client, not even a pong, for the idle timeout.
    pub const IDLE: u16 = 4003;
    /// The room has as many members as it allows.
    pub const ROOM_FULL: u16 = 4004;
    /// The server has as many rooms open as it allows.
    pub const SERVER_BUSY: u16 = 4005;
    /// This address opened as many rooms as it may for now.
    pub const TOO_MANY_ROOMS: u16 = 4006;
    /// The view-only link this connection came by was replaced: it no longer opens the room.
    pub const VIEW_REVOKED: u16 = 4007;

    /// Every close code the server uses.
    pub const ALL: &[u16] = &[
        PROTOCOL_ERROR,
        INVALID_DATA,
        TOO_LARGE,
        RESTARTING,
        TRY_AGAIN_LATER,
        RESYNC,
        HANDSHAKE,
        UNAVAILABLE,
        IDLE,
        ROOM_FULL,
        SERVER_BUSY,
        TOO_MANY_ROOMS,
        VIEW_REVOKED,
    ];
}
