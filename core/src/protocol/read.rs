//! How `ServerMsg` is read: tag first (see `tagged`), each variant from a
//! fields struct that mirrors what the derived `Serialize` writes.

use serde::Deserialize;
use serde::de::MapAccess;

use super::errors::ErrorCode;
use super::messages::ServerMsg;
use crate::model::{Change, RoomName, Shape, ShapeId};
use crate::presence::Point;
use crate::tagged::{self, TagFirst};

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
        "applied_part",
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
        struct AppliedPart {
            seq: u64,
            part: u32,
            parts: u32,
            changes: Vec<Change>,
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
            #[serde(default)]
            viewer: bool,
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
            "applied_part" => {
                let AppliedPart { seq, part, parts, changes, op, by } = tagged::rest(rest)?;
                ServerMsg::AppliedPart { seq, part, parts, changes, op, by }
            }
            "presence" => ServerMsg::MemberCount { members: tagged::rest::<_, Presence>(rest)?.members },
            "you" => ServerMsg::You { person: small(one(rest)?)? },
            "person" => {
                let Person { id, name, color, viewer } = tagged::rest(rest)?;
                ServerMsg::Person { id, name, color, viewer }
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
