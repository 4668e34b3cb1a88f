//! The wire protocol between a browser tab and its room: JSON text frames over
//! one WebSocket at `/ws/{room}`, and the close codes that end one.
//! `docs/protocol.md` is the prose version of this file; keep the two in step.

use serde::{Deserialize, Serialize};

use crate::model::{Change, ChangeError, ClientId, RoomName, Shape, ShapeId};
use crate::presence::{DisplayName, MAX_SHOWN_SELECTION, Point, on_board};

/// Bumped on any change that an older peer would misread.
pub const PROTOCOL_VERSION: u32 = 5;

/// The most shapes one `board` message carries: a big board comes in parts,
/// each a few tens of kilobytes, shared by every joiner of the same state.
pub const SHAPES_PER_PART: usize = 512;

/// The largest message a client may send, in bytes. A larger one is answered
/// with `message_too_large` and the connection is closed with code 1009.
/// (Server messages have no such limit: a welcome carries a whole board.)
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The most `part` messages one change may travel in (see `ClientMsg::Part`):
/// with each message within `MAX_MESSAGE_BYTES`, a change is at most 4 MiB
/// on the wire, which a full board replaced takes about 3 MiB of.
pub const MAX_PARTS: u32 = 64;

/// The largest `op` accepted: JavaScript numbers are exact up to here.
pub const MAX_OP: u64 = (1 << 53) - 1;

/// How far above the last `op` a room accepted from a client the next may
/// be. A client numbers its changes one by one; a jump this large could only
/// be made to push the client's mark out of reach (every later change would
/// be stale), so it is refused.
pub const MAX_OP_JUMP: u64 = 1 << 20;

/// The longest `build` a hello may carry.
pub const MAX_BUILD_LEN: usize = 64;

/// Which build this is; a client states it in its hello, for the server's logs.
pub const BUILD: &str = env!("CARGO_PKG_VERSION");

/// What a browser tab sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// The first message on every connection.
    Hello {
        version: u32,
        client: ClientId,
        /// The `seq` of the board this client already holds from this room, if
        /// it holds one: the server may then send only the changes after it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
        /// The `epoch` of the welcome that board came from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<u64>,
        /// The client's build, for the server's logs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        build: Option<String>,
        /// Which person this tab belongs to (the same for all tabs of one
        /// browser): private, like `client`; others see a number instead.
        /// Without it, the tab is a person of its own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        person: Option<ClientId>,
    },
    /// A change the tab has already applied locally. `op` numbers the tab's own
    /// changes so it can match the server's confirmation (or error) to it.
    Change { op: u64, change: Change },
    /// Part `part` of `parts` of change `op`, a batch too large for one
    /// message: its parts' `changes` in order, the batch being all of them.
    /// Parts come 0 first, one after another with nothing between them; the
    /// server takes the change once the last arrives, as if it had come as
    /// one `change` (one `op`, one recorded change, one confirmation).
    Part { op: u64, part: u32, parts: u32, changes: Vec<Change> },
    /// Presence: this person's display name (for all their tabs).
    Name { name: DisplayName },
    /// Presence: where this tab's pointer is on the board; null once it left the board.
    Pointer { at: Option<Point> },
    /// Presence: the shapes this tab has selected (at most `MAX_SHOWN_SELECTION`).
    Selection { ids: Vec<ShapeId> },
}

/// What the server sends: `{"type": "applied", …}`, `type` first (read by `tagged`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The answer to `hello`: the whole board as of `seq`. Every `applied` that
    /// follows has the next sequence number, with no gaps. `last_op` is the
    /// highest `op` this room has recorded from this client id (0 if none):
    /// changes up to it are in the board already and must not be sent again.
    /// `epoch` names this incarnation of the room (it changes only if the
    /// room's storage is deleted and the room made anew); a client resuming
    /// with `since` gives it back.
    ///
    /// The board itself follows in `parts` messages of type `board`, part 0
    /// first, before anything else: the welcome counts as received once the
    /// last part is.
    Welcome { version: u32, room: RoomName, seq: u64, epoch: u64, members: u32, last_op: u64, parts: u32 },
    /// One part of the board a welcome announced: its shapes `part ×
    /// SHAPES_PER_PART` onwards, bottom first. (The same bytes go to every
    /// joiner of the same room state, however many join.)
    Board { seq: u64, part: u32, shapes: Vec<Shape> },
    /// The other answer to `hello`, when it gave `since` (and the room's
    /// `epoch`) and the room's recent
    /// log reaches back to it (and is shorter than a snapshot): the changes
    /// numbered `from + 1 ..= from + changes.len()`, in order. `from` equals
    /// the hello's `since`. Then the stream continues as after a welcome.
    CatchUp { version: u32, room: RoomName, from: u64, changes: Vec<Change>, members: u32, last_op: u64 },
    /// A change the room accepted and recorded, in the room's order. Every
    /// member receives it; only the author's copy carries `op`, and that copy
    /// is the author's confirmation. (Client ids are never sent to others.)
    /// The others' copies carry `by`, the author's person number as in
    /// presence's `person` messages, so they can say who did it.
    Applied {
        seq: u64,
        change: Change,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        op: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<u32>,
    },
    /// Part `part` of `parts` of change `seq`, a batch too large for one
    /// message (a client's `part`s, say), with `op` and `by` as `applied`
    /// has them. The parts come one after another, nothing of the room's
    /// stream between them (presence and refusals may be); the last
    /// completes an `applied` of the batch that is all their `changes`.
    AppliedPart {
        seq: u64,
        part: u32,
        parts: u32,
        changes: Vec<Change>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        op: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<u32>,
    },
    /// How many connections the room has now. (Its wire name, `presence`,
    /// is older than presence proper; it becomes `member_count` with the next
    /// protocol version.)
    #[serde(rename = "presence")]
    MemberCount { members: u32 },
    /// Presence: which person in `person` messages is this tab's own. Sent once, first.
    You { person: u32 },
    /// Presence: a person is here, or changed their name. `id` is the room's
    /// number for them while they stay; `color` indexes the person palette;
    /// `viewer` when they came by a view-only link (they may point, not edit).
    Person {
        id: u32,
        name: String,
        color: u8,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        viewer: bool,
    },
    /// Presence: a person's last tab left.
    PersonLeft { id: u32 },
    /// Presence: where another tab's pointer is (null: off the board).
    Pointer { tab: u64, person: u32, at: Option<Point> },
    /// Presence: what another tab has selected.
    Selection { tab: u64, person: u32, ids: Vec<ShapeId> },
    /// Presence: another tab left (its pointer and selection go with it).
    TabLeft { tab: u64 },
    /// Something the server refused. `op` names the refused change, if any;
    /// the room is unchanged.
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        op: Option<u64>,
    },
}

// Reading `ServerMsg` tag first (see `tagged`) is long enough for a file of its own.
mod read;

// Changes too large for one message: how they are cut into parts.
mod parts;
pub use parts::{ALWAYS_FITS_PARTS, LONGEST_CHANGE, in_parts};

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

/// Why a client's text frame was refused before reaching any room.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct BadMessage(pub String);

impl ClientMsg {
    /// Parses one text frame from a client and checks what the types alone do
    /// not (number ranges, string lengths), so what comes out is safe to hand
    /// to a room. (The size limit is the caller's: it applies to the frame.)
    pub fn decode(text: &str) -> Result<ClientMsg, BadMessage> {
        let msg: ClientMsg = serde_json::from_str(text).map_err(|e| BadMessage(format!("not a valid message: {e}")))?;
        match &msg {
            ClientMsg::Change { op, .. } | ClientMsg::Part { op, .. } if *op == 0 || *op > MAX_OP => {
                Err(BadMessage(format!("op must be between 1 and {MAX_OP}")))
            }
            ClientMsg::Part { part, parts, changes, .. }
                if *parts < 2 || *parts > MAX_PARTS || part >= parts || changes.is_empty() =>
            {
                Err(BadMessage(format!(
                    "a part is one of 2 to {MAX_PARTS} (numbered from 0) and holds at least one change"
                )))
            }
            ClientMsg::Hello { build: Some(build), .. } if build.len() > MAX_BUILD_LEN => {
                Err(BadMessage(format!("build must be at most {MAX_BUILD_LEN} bytes")))
            }
            ClientMsg::Pointer { at: Some(at) } if !on_board(*at) => {
                Err(BadMessage("a pointer must be on the board (or null)".to_owned()))
            }
            ClientMsg::Selection { ids } if ids.len() > MAX_SHOWN_SELECTION => {
                Err(BadMessage(format!("a selection message carries at most {MAX_SHOWN_SELECTION} ids")))
            }
            _ => Ok(msg),
        }
    }

    /// The hello this build sends, from a client that holds the board as of `at`, if any.
    pub fn hello(client: ClientId, person: Option<ClientId>, at: Option<Position>) -> ClientMsg {
        let (since, epoch) = (at.map(|p| p.seq), at.map(|p| p.epoch));
        ClientMsg::Hello { version: PROTOCOL_VERSION, client, since, epoch, build: Some(BUILD.to_owned()), person }
    }

    /// Whether this is presence (never stored, never numbered).
    pub fn is_presence(&self) -> bool {
        matches!(self, ClientMsg::Name { .. } | ClientMsg::Pointer { .. } | ClientMsg::Selection { .. })
    }
}

/// A place in a room's history: which incarnation of the room, and how many
/// changes into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub epoch: u64,
    pub seq: u64,
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
            ChangeError::LayersOutOfOrder => ErrorCode::BadMessage,
        }
    }
}

impl ServerMsg {
    pub fn error(code: ErrorCode, message: impl Into<String>, op: Option<u64>) -> Self {
        ServerMsg::Error { code, message: message.into(), op }
    }

    /// Reads one text frame from the server.
    pub fn decode(text: &str) -> Result<ServerMsg, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// JSON text for the wire. Serialising these types cannot fail (no maps with
    /// non-string keys, no non-finite floats reach here), so a failure is a bug:
    /// it is logged and turned into an error message rather than a panic.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            tracing::error!(error = %e, "could not serialise a server message");
            r#"{"type":"error","code":"bad_message","message":"internal serialisation error"}"#.to_owned()
        })
    }
}

impl ClientMsg {
    /// JSON text for the wire (cannot fail: only strings and finite numbers).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
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

#[cfg(test)]
mod tests;
