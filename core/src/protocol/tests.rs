//! The protocol's unit tests: the documented forms, junk refused, every
//! server message read back as written, ranges checked at the edge.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::model::{Change, ClientId, RoomName, Shape, ShapeId, ShapeKind};
use crate::presence::MAX_SHOWN_SELECTION;

#[test]
fn client_messages_have_the_documented_form() {
    let hello: ClientMsg = serde_json::from_str(r#"{"type":"hello","version":2,"client":"tab-1"}"#).unwrap();
    let client = ClientId::parse("tab-1").unwrap();
    let bare =
        ClientMsg::Hello { version: 2, client: client.clone(), since: None, epoch: None, build: None, person: None };
    assert_eq!(hello, bare);
    let resuming: ClientMsg =
        serde_json::from_str(r#"{"type":"hello","version":2,"client":"tab-1","since":41,"epoch":7,"build":"0.1.0"}"#)
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
    // `after` may be null (at the start), but not left out.
    let write: ClientMsg = serde_json::from_str(
        r#"{"type":"change","op":8,"change":{"op":"write","id":"s1","after":null,"at":[3,0],"text":"hi"}}"#,
    )
    .unwrap();
    let id = ShapeId::parse("s1").unwrap();
    let expected = Change::Write { id, after: None, at: crate::model::CharId(3, 0), text: "hi".into() };
    assert_eq!(write, ClientMsg::Change { op: 8, change: expected });
}

#[test]
fn error_codes_are_named_as_on_the_wire() {
    assert_eq!(ErrorCode::ALL.len(), 22);
    for &code in ErrorCode::ALL {
        assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        assert_eq!(serde_json::from_value::<ErrorCode>(code.as_str().into()).unwrap(), code);
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
        r#"{"type":"change","op":1,"change":{"op":"resize","id":"a","x":1,"y":2,"w":3}}"#,
        r#"{"type":"change","op":1,"change":{"op":"resize","id":"a","x":1,"y":2,"w":3,"h":"4"}}"#,
        r#"{"type":"change","op":1,"change":{"op":"rotate","id":"a","rotation":1e999}}"#,
        r#"{"type":"change","op":1,"change":{"op":"rotate","id":"a","angle":15}}"#,
        r#"{"type":"change","op":1,"change":{"op":"write","id":"a","after":null,"at":[1],"text":"x"}}"#,
        r#"{"type":"change","op":1,"change":{"op":"write","id":"a","after":null,"at":[1,-2],"text":"x"}}"#,
        r#"{"type":"change","op":1,"change":{"op":"write","id":"a","after":null,"at":[1,2],"text":"\ud800"}}"#,
        r#"{"type":"change","op":1,"change":{"op":"erase","id":"a","chars":[[1,2]]}}"#,
        r#"{"type":"change","op":1,"change":{"op":"text_size","id":"a","size":"xxl"}}"#,
        r#"{"type":"change","op":1,"change":{"op":"move","id":"a","x":1,"y":2,"color":null}}"#,
        r#"{"type":"change","op":1,"change":{"op":"move","id":"a","x":null,"y":2}}"#,
        r#"{"type":"change","op":1,"change":{"op":"write","id":"a","at":[1,2],"text":"x"}}"#,
        r#"{"type":"change","op":1,"change":{"op":"delete","id":"a","changes":[]}}"#,
        r#"{"type":"change","op":1,"change":{"op":"create","shape":{"id":"a","kind":"circle","x":1,"y":2,"text":"ab","chars":[[1,0,1,0]]}}}"#,
        r#"{"type":"change","op":1,"change":{"op":"delete","id":"a"},"extra":1}"#,
        r#"{"type":"change","op":1}"#,
        r#"{"type":"pointer","at":null,"tab":1}"#,
        r#"{"type":"selection","ids":["a"],"ids":["b"]}"#,
        r#"{"type":"name"}"#,
        r#"{"type":"part","op":1,"part":0,"parts":2}"#,
        r#"{"type":5,"op":1}"#,
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
        ServerMsg::MemberCount { members: 3 },
        ServerMsg::You { person: 4 },
        ServerMsg::Person { id: 4, name: "Blue <b>Otter</b>".into(), color: 3, viewer: false },
        ServerMsg::Person { id: 5, name: String::new(), color: 0, viewer: true },
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
    let too_many = format!(r#"{{"type":"selection","ids":[{}]}}"#, vec![r#""a""#; MAX_SHOWN_SELECTION + 1].join(","));
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

/// The bound the unmeasured sends rely on: the longest single change there is
/// (the longest id, coordinates that print longest, a colour, the farthest layer).
#[test]
fn no_change_encodes_longer_than_longest_change() {
    use crate::model::{Color, MAX_IDENT_LEN, MAX_LAYER, Shape, ShapeId, ShapeKind};
    let id = ShapeId::parse("x".repeat(MAX_IDENT_LEN)).unwrap();
    let long = 0.000_000_000_123_456_789_012_345_67;
    let mut shape = Shape::new(id.clone(), ShapeKind::Rectangle, 1439.9999999999998, long);
    shape.color = Some(Color::Violet);
    shape.z = -MAX_LAYER;
    (shape.w, shape.h, shape.rotation) = (159.99999999999997, 10.000000000000002, long);
    let longest = [
        Change::Create { shape },
        Change::Resize { id: id.clone(), x: 1439.9999999999998, y: long, w: 159.99999999999997, h: long },
        Change::Rotate { id: id.clone(), rotation: long },
        Change::TextSize { id: id.clone(), size: crate::model::TextSize::Xl },
        Change::Move { id: id.clone(), x: 1439.9999999999998, y: 0.000_000_000_123_456_789_012_345_67 },
        Change::Layer { id: id.clone(), z: -MAX_LAYER },
        Change::Color { id, color: Color::Violet },
    ];
    for change in longest {
        let len = serde_json::to_string(&change).unwrap().len();
        assert!(len <= super::LONGEST_CHANGE, "{len} bytes: {change:?}");
    }
}

#[test]
fn every_client_message_reads_back_as_written() {
    let id = ShapeId::parse("s1").unwrap();
    let client = ClientId::parse("tab-1").unwrap();
    let shape = Shape::new(id.clone(), ShapeKind::Circle, 1.0, 2.0);
    for msg in [
        ClientMsg::Hello { version: 5, client: client.clone(), since: None, epoch: None, build: None, person: None },
        ClientMsg::Hello {
            version: 5,
            client: client.clone(),
            since: Some(9),
            epoch: Some(2),
            build: Some("b".into()),
            person: Some(client),
        },
        ClientMsg::Change { op: 3, change: Change::Create { shape } },
        ClientMsg::Part { op: 4, part: 1, parts: 2, changes: vec![Change::Delete { id: id.clone() }] },
        ClientMsg::Name { name: crate::presence::DisplayName::parse("Ann").unwrap() },
        ClientMsg::Pointer { at: Some([3.5, 4.0]) },
        ClientMsg::Pointer { at: None },
        ClientMsg::Selection { ids: vec![id] },
    ] {
        let text = serde_json::to_string(&msg).unwrap();
        assert_eq!(ClientMsg::decode(&text).unwrap(), msg, "{text}");
    }
}
