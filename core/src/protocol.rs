//! The wire protocol between a browser tab and its room: JSON text frames over
//! one WebSocket at `/ws/{room}`, and the close codes that end one.
//! `docs/protocol.md` is the prose version of this file; keep the two in step.

use serde::de::MapAccess;
use serde::{Deserialize, Serialize};

use crate::model::{Change, ChangeError, ClientId, RoomName, Shape, ShapeId};
use crate::presence::{DisplayName, MAX_SHOWN_SELECTION, Point, on_board};
use crate::tagged::{self, TagFirst};

/// Bumped on any change that an older peer would misread.
pub const PROTOCOL_VERSION: u32 = 4;

/// The most shapes one `board` message carries: a big board comes in parts,
/// each a few tens of kilobytes, shared by every joiner of the same state.
pub const SHAPES_PER_PART: usize = 512;

/// The largest message a client may send, in bytes. A larger one is answered
/// with `message_too_large` and the connection is closed with code 1009.
/// (Server messages have no such limit: a welcome carries a whole board.)
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

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
    /// How many connections the room has now.
    Presence { members: u32 },
    /// Presence: which person in `person` messages is this tab's own. Sent once, first.
    You { person: u32 },
    /// Presence: a person is here, or changed their name. `id` is the room's
    /// number for them while they stay; `color` indexes the person palette.
    Person { id: u32, name: String, color: u8 },
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

impl<'de> Deserialize<'de> for ServerMsg {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ServerMsg, D::Error> {
        tagged::deserialize(deserializer)
    }
}

impl TagFirst for ServerMsg {
    const TAG: &'static str = "type";
    const VARIANTS: &'static [&'static str] = &[
        "welcome",
        "board",
        "catch_up",
        "applied",
        "presence",
        "you",
        "person",
        "person_left",
        "pointer",
        "selection",
        "tab_left",
        "error",
    ];

    fn variant<'de, A: MapAccess<'de>>(tag: &str, rest: A) -> Result<ServerMsg, A::Error> {
        // The fields of each variant, as the derived `Serialize` above writes them.
        #[derive(Deserialize)]
        struct Welcome {
            version: u32,
            room: RoomName,
            seq: u64,
            epoch: u64,
            members: u32,
            last_op: u64,
            parts: u32,
        }
        #[derive(Deserialize)]
        struct Board {
            seq: u64,
            part: u32,
            shapes: Vec<Shape>,
        }
        #[derive(Deserialize)]
        struct CatchUp {
            version: u32,
            room: RoomName,
            from: u64,
            changes: Vec<Change>,
            members: u32,
            last_op: u64,
        }
        #[derive(Deserialize)]
        struct Applied {
            seq: u64,
            change: Change,
            #[serde(default)]
            op: Option<u64>,
            #[serde(default)]
            by: Option<u32>,
        }
        #[derive(Deserialize)]
        struct Presence {
            members: u32,
        }
        #[derive(Deserialize)]
        struct Person {
            id: u32,
            name: String,
            color: u8,
        }
        #[derive(Deserialize)]
        struct Pointer {
            tab: u64,
            person: u32,
            at: Option<Point>,
        }
        #[derive(Deserialize)]
        struct Selection {
            tab: u64,
            person: u32,
            ids: Vec<ShapeId>,
        }
        // `you`, `person_left` and `tab_left` carry one number each.
        #[derive(Deserialize)]
        struct One {
            #[serde(alias = "person", alias = "tab")]
            id: u64,
        }
        let one = |rest| tagged::rest::<_, One>(rest).map(|o| o.id);
        let small = |n: u64| u32::try_from(n).map_err(serde::de::Error::custom);
        #[derive(Deserialize)]
        struct Error {
            code: ErrorCode,
            message: String,
            #[serde(default)]
            op: Option<u64>,
        }
        Ok(match tag {
            "welcome" => {
                let Welcome { version, room, seq, epoch, members, last_op, parts } = tagged::rest(rest)?;
                ServerMsg::Welcome { version, room, seq, epoch, members, last_op, parts }
            }
            "board" => {
                let Board { seq, part, shapes } = tagged::rest(rest)?;
                ServerMsg::Board { seq, part, shapes }
            }
            "catch_up" => {
                let CatchUp { version, room, from, changes, members, last_op } = tagged::rest(rest)?;
                ServerMsg::CatchUp { version, room, from, changes, members, last_op }
            }
            "applied" => {
                let Applied { seq, change, op, by } = tagged::rest(rest)?;
                ServerMsg::Applied { seq, change, op, by }
            }
            "presence" => ServerMsg::Presence { members: tagged::rest::<_, Presence>(rest)?.members },
            "you" => ServerMsg::You { person: small(one(rest)?)? },
            "person" => {
                let Person { id, name, color } = tagged::rest(rest)?;
                ServerMsg::Person { id, name, color }
            }
            "person_left" => ServerMsg::PersonLeft { id: small(one(rest)?)? },
            "pointer" => {
                let Pointer { tab, person, at } = tagged::rest(rest)?;
                ServerMsg::Pointer { tab, person, at }
            }
            "selection" => {
                let Selection { tab, person, ids } = tagged::rest(rest)?;
                ServerMsg::Selection { tab, person, ids }
            }
            "tab_left" => ServerMsg::TabLeft { tab: one(rest)? },
            _ => {
                let Error { code, message, op } = tagged::rest(rest)?;
                ServerMsg::Error { code, message, op }
            }
        })
    }
}

/// Machine-readable reasons for an `error` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, not a known message type, or a field of the wrong kind.
    BadMessage,
    /// The message is larger than `MAX_MESSAGE_BYTES`.
    MessageTooLarge,
    /// The client speaks another protocol version: reload the page.
    VersionMismatch,
    /// A change arrived before `hello`, or a second `hello` did.
    HelloFirst,
    /// A position outside the board, or not a finite number.
    OutOfBounds,
    UnknownShape,
    DuplicateShape,
    TooManyShapes,
    /// A batch that is empty, holds more than `MAX_BATCH` changes, or holds a
    /// batch. (A batch refused for one of its changes gets that change's code.)
    BadBatch,
    /// A layer beyond ±`MAX_LAYER`.
    BadLayer,
    /// The `op` is not above the last one this room accepted from this
    /// client: it was applied before (or refused before) and is not applied again.
    StaleOp,
    /// The `op` is more than `MAX_OP_JUMP` above the last one this room
    /// accepted from this client: not applied.
    OpTooFar,
    /// The connection sends faster than the server's limit: its messages are
    /// now read at the limited rate (nothing is dropped). Sent once per episode.
    RateLimited,
    /// The room has as many members as it allows (then close 4004).
    RoomFull,
    /// The server has as many rooms open as it allows (then close 4005).
    ServerBusy,
    /// This client's address opened or created as many rooms as one address
    /// may in a while: a join is closed with 4006, a room's first change refused.
    TooManyRooms,
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
            ClientMsg::Change { op, .. } if *op == 0 || *op > MAX_OP => {
                Err(BadMessage(format!("op must be between 1 and {MAX_OP}")))
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
    /// The code as it is written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadMessage => "bad_message",
            ErrorCode::MessageTooLarge => "message_too_large",
            ErrorCode::VersionMismatch => "version_mismatch",
            ErrorCode::HelloFirst => "hello_first",
            ErrorCode::OutOfBounds => "out_of_bounds",
            ErrorCode::UnknownShape => "unknown_shape",
            ErrorCode::DuplicateShape => "duplicate_shape",
            ErrorCode::TooManyShapes => "too_many_shapes",
            ErrorCode::BadBatch => "bad_batch",
            ErrorCode::BadLayer => "bad_layer",
            ErrorCode::StaleOp => "stale_op",
            ErrorCode::OpTooFar => "op_too_far",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::RoomFull => "room_full",
            ErrorCode::ServerBusy => "server_busy",
            ErrorCode::TooManyRooms => "too_many_rooms",
        }
    }

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ShapeId, ShapeKind};

    #[test]
    fn client_messages_have_the_documented_form() {
        let hello: ClientMsg = serde_json::from_str(r#"{"type":"hello","version":2,"client":"tab-1"}"#).unwrap();
        let client = ClientId::parse("tab-1").unwrap();
        let bare = ClientMsg::Hello {
            version: 2,
            client: client.clone(),
            since: None,
            epoch: None,
            build: None,
            person: None,
        };
        assert_eq!(hello, bare);
        let resuming: ClientMsg = serde_json::from_str(
            r#"{"type":"hello","version":2,"client":"tab-1","since":41,"epoch":7,"build":"0.1.0"}"#,
        )
        .unwrap();
        let (since, epoch, build) = (Some(41), Some(7), Some("0.1.0".into()));
        let expected = ClientMsg::Hello { version: 2, client, since, epoch, build, person: None };
        assert_eq!(resuming, expected);
        let change: ClientMsg = serde_json::from_str(
            r#"{"type":"change","op":7,"change":{"op":"create","shape":{"id":"s1","kind":"circle","x":1,"y":2}}}"#,
        )
        .unwrap();
        let shape = Shape::new(ShapeId::parse("s1").unwrap(), ShapeKind::Circle, 1.0, 2.0);
        assert_eq!(change, ClientMsg::Change { op: 7, change: Change::Create { shape } });
    }

    #[test]
    fn error_codes_are_named_as_on_the_wire() {
        for code in [ErrorCode::BadMessage, ErrorCode::OpTooFar, ErrorCode::TooManyRooms, ErrorCode::StaleOp] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn junk_is_refused() {
        for junk in [
            "",
            "null",
            "{}",
            r#"{"type":"shout"}"#,
            r#"{"type":"hello","version":1,"client":"bad id"}"#,
            r#"{"type":"hello","version":1,"client":"a","extra":1}"#,
            r#"{"type":"change","op":-1,"change":{"op":"delete","id":"a"}}"#,
            r#"{"type":"change","op":1,"change":{"op":"move","id":"a","x":"1","y":2}}"#,
            r#"{"type":"change","op":1,"change":{"op":"move","id":"a","x":1e999,"y":2}}"#,
            r#"{"type":"change","op":1,"change":{"op":"create","shape":{"id":"a","kind":"hexagon","x":1,"y":2}}}"#,
            r#"{"type":"change","op":1,"change":{"op":"delete","id":"a","colour":"red"}}"#,
            r#"{"type":"change","op":1,"change":{"op":"create","shape":{"id":"a","kind":"circle","x":1,"y":2,"r":9}}}"#,
        ] {
            assert!(ClientMsg::decode(junk).is_err(), "{junk}");
        }
    }

    #[test]
    fn every_server_message_reads_back_as_written() {
        let change = Change::Move { id: ShapeId::parse("s").unwrap(), x: 1.5, y: 2.0 };
        let room = RoomName::parse("r").unwrap();
        let messages = [
            ServerMsg::CatchUp { version: 2, room, from: 3, changes: vec![change.clone()], members: 2, last_op: 1 },
            ServerMsg::Applied { seq: 4, change: change.clone(), op: None, by: Some(2) },
            ServerMsg::Applied { seq: 4, change, op: Some(9), by: None },
            ServerMsg::Presence { members: 3 },
            ServerMsg::You { person: 4 },
            ServerMsg::Person { id: 4, name: "Blue <b>Otter</b>".into(), color: 3 },
            ServerMsg::PersonLeft { id: 4 },
            ServerMsg::Pointer { tab: 9, person: 4, at: Some([1.5, 2.0]) },
            ServerMsg::Pointer { tab: 9, person: 4, at: None },
            ServerMsg::Selection { tab: 9, person: 4, ids: vec![ShapeId::parse("s").unwrap()] },
            ServerMsg::TabLeft { tab: 9 },
            ServerMsg::error(ErrorCode::StaleOp, "again", Some(2)),
            ServerMsg::error(ErrorCode::RateLimited, "slow down", None),
        ];
        for msg in messages {
            assert_eq!(ServerMsg::decode(&msg.to_json()).unwrap(), msg);
        }
    }

    #[test]
    fn the_tag_comes_first() {
        assert!(ServerMsg::decode(r#"{"type":"presence","members":2}"#).is_ok());
        // The browser reads only what the server writes, tag first; the server takes any order.
        let late = ServerMsg::decode(r#"{"members":2,"type":"presence"}"#);
        assert_eq!(late.is_ok(), cfg!(feature = "any-order"), "{late:?}");
        assert!(ServerMsg::decode(r#"{"type":"shout","members":2}"#).is_err(), "an unknown type");
        // What clients send may come in any order where the server reads it.
        let id_first = r#"{"type":"change","op":1,"change":{"id":"a","op":"move","x":1,"y":2}}"#;
        assert_eq!(ClientMsg::decode(id_first).is_ok(), cfg!(feature = "any-order"));
        let twice = r#"{"type":"change","op":1,"change":{"id":"a","op":"move","x":1,"y":2,"op":"delete"}}"#;
        assert!(ClientMsg::decode(twice).is_err());
    }

    #[test]
    fn a_welcome_and_its_board_read_back() {
        let shape = Shape::new(ShapeId::parse("s1").unwrap(), ShapeKind::Circle, 1.5, 2.0);
        let room = RoomName::parse("a-room_1").unwrap();
        let (version, seq, epoch, members, last_op, parts) = (PROTOCOL_VERSION, 7, 99, 3, 2, 1);
        let welcome = ServerMsg::Welcome { version, room, seq, epoch, members, last_op, parts };
        assert_eq!(ServerMsg::decode(&welcome.to_json()).unwrap(), welcome);
        let board = ServerMsg::Board { seq, part: 0, shapes: vec![shape] };
        let text = board.to_json();
        assert!(text.starts_with(r#"{"type":"board","seq":7,"part":0,"shapes":[{"id":"s1""#), "{text}");
        assert_eq!(ServerMsg::decode(&text).unwrap(), board);
    }

    #[test]
    fn presence_is_checked_at_the_edge() {
        let ok = [
            r#"{"type":"name","name":"Blue Otter"}"#,
            r#"{"type":"pointer","at":[0,1000]}"#,
            r#"{"type":"pointer","at":null}"#,
            r#"{"type":"selection","ids":["a","b"]}"#,
        ];
        for text in ok {
            assert!(ClientMsg::decode(text).unwrap().is_presence(), "{text}");
        }
        let too_many =
            format!(r#"{{"type":"selection","ids":[{}]}}"#, vec![r#""a""#; MAX_SHOWN_SELECTION + 1].join(","));
        let long_name = format!(r#"{{"type":"name","name":"{}"}}"#, "x".repeat(33));
        let bad = [
            r#"{"type":"name","name":"  "}"#,
            r#"{"type":"name","name":"a","person":1}"#,
            r#"{"type":"pointer","at":[-1,0]}"#,
            r#"{"type":"pointer","at":[0,1e999]}"#,
            r#"{"type":"pointer","at":[1]}"#,
            r#"{"type":"pointer","at":[1,2],"tab":3}"#,
            r#"{"type":"selection","ids":["bad id"]}"#,
            &too_many,
            &long_name,
        ];
        for text in bad {
            assert!(ClientMsg::decode(text).is_err(), "{text}");
        }
    }

    #[test]
    fn ranges_the_types_cannot_express_are_checked() {
        let change = |op: u64| format!(r#"{{"type":"change","op":{op},"change":{{"op":"delete","id":"a"}}}}"#);
        assert!(ClientMsg::decode(&change(1)).is_ok());
        assert!(ClientMsg::decode(&change(MAX_OP)).is_ok());
        assert!(ClientMsg::decode(&change(0)).is_err());
        assert!(ClientMsg::decode(&change(MAX_OP + 1)).is_err());
        let hello = |build: &str| format!(r#"{{"type":"hello","version":1,"client":"a","build":"{build}"}}"#);
        assert!(ClientMsg::decode(&hello(&"b".repeat(MAX_BUILD_LEN))).is_ok());
        assert!(ClientMsg::decode(&hello(&"b".repeat(MAX_BUILD_LEN + 1))).is_err());
    }
}
