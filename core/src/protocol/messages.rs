//! The messages: what a tab sends (`ClientMsg`), checked at the edge by
//! `decode`, and what the server sends (`ServerMsg`).

use serde::{Deserialize, Serialize};

use super::errors::ErrorCode;
use super::limits::{BUILD, MAX_BUILD_LEN, MAX_OP, MAX_PARTS, PROTOCOL_VERSION};
use crate::model::{Change, ClientId, RoomName, Shape, ShapeId};
use crate::presence::{DisplayName, MAX_SHOWN_SELECTION, Point, on_board};

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
