//! How `ClientMsg` is read (by the server): tag first (see `tagged`), each
//! variant from a fields struct that mirrors what the derived `Serialize`
//! writes, unknown fields refused. serde's own internally tagged reading
//! buffered every message into a generic tree first, on every change a
//! client sends; this reads it once, straight into its types. A client that
//! writes the tag elsewhere is still understood (`tagged`'s `any-order`).

use serde::Deserialize;
use serde::de::MapAccess;

use super::messages::ClientMsg;
use crate::model::{Change, ClientId, ShapeId};
use crate::presence::{DisplayName, Point};
use crate::tagged::{self, TagFirst};

impl<'de> Deserialize<'de> for ClientMsg {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ClientMsg, D::Error> {
        tagged::deserialize(deserializer)
    }
}

impl TagFirst for ClientMsg {
    const TAG: &'static str = "type";
    const VARIANTS: &'static [&'static str] = &["hello", "change", "part", "name", "pointer", "selection"];

    fn variant<'de, A: MapAccess<'de>>(tag: &str, rest: A) -> Result<ClientMsg, A::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Hello {
            version: u32,
            client: ClientId,
            #[serde(default)]
            since: Option<u64>,
            #[serde(default)]
            epoch: Option<u64>,
            #[serde(default)]
            build: Option<String>,
            #[serde(default)]
            person: Option<ClientId>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Changed {
            op: u64,
            change: Change,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Part {
            op: u64,
            part: u32,
            parts: u32,
            changes: Vec<Change>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Name {
            name: DisplayName,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Pointer {
            at: Option<Point>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Selection {
            ids: Vec<ShapeId>,
        }
        Ok(match tag {
            "hello" => {
                let Hello { version, client, since, epoch, build, person } = tagged::rest(rest)?;
                ClientMsg::Hello { version, client, since, epoch, build, person }
            }
            "change" => {
                let Changed { op, change } = tagged::rest(rest)?;
                ClientMsg::Change { op, change }
            }
            "part" => {
                let Part { op, part, parts, changes } = tagged::rest(rest)?;
                ClientMsg::Part { op, part, parts, changes }
            }
            "name" => ClientMsg::Name { name: tagged::rest::<_, Name>(rest)?.name },
            "pointer" => ClientMsg::Pointer { at: tagged::rest::<_, Pointer>(rest)?.at },
            _ => ClientMsg::Selection { ids: tagged::rest::<_, Selection>(rest)?.ids },
        })
    }
}
