//! Fuzzing the edge: whatever text a client sends, decoding it and applying
//! it never panics, and whatever is refused leaves the board exactly as it
//! was. (Proptest over arbitrary bytes, over mutations of valid messages, and
//! over well-formed messages with hostile numbers and strings.)
#![allow(clippy::unwrap_used)] // tests unwrap what must hold

use proptest::prelude::*;
use sketchboard_core::model::{Board, Change, Shape, ShapeId, ShapeKind};
use sketchboard_core::protocol::ClientMsg;

/// A board with a few shapes for changes to land on.
fn board() -> Board {
    let mut b = Board::new();
    for (i, kind) in [ShapeKind::Rectangle, ShapeKind::Triangle, ShapeKind::Circle].into_iter().enumerate() {
        let shape = Shape::new(ShapeId::parse(format!("s{i}")).unwrap(), kind, 100.0 * i as f64, 10.0);
        b.apply(&Change::Create { shape }).unwrap();
    }
    b
}

/// Decodes `text` as the server does, then applies any change it carries.
/// Returns whether the board changed; panics (failing the case) if a refused
/// change touched it.
fn feed(text: &str) -> bool {
    let mut b = board();
    let before = b.clone();
    match ClientMsg::decode(text) {
        Ok(ClientMsg::Change { change, .. }) => match b.apply(&change) {
            Ok(()) => true,
            Err(_) => {
                assert_eq!(b, before, "a refused change altered the board: {text}");
                false
            }
        },
        // Hellos and presence never touch the board.
        Ok(_) | Err(_) => false,
    }
}

const VALID: &[&str] = &[
    r#"{"type":"hello","version":2,"client":"tab-1","since":3,"build":"0.1.0"}"#,
    r#"{"type":"change","op":7,"change":{"op":"create","shape":{"id":"n1","kind":"circle","x":1,"y":2}}}"#,
    r#"{"type":"change","op":8,"change":{"op":"move","id":"s1","x":300,"y":200}}"#,
    r#"{"type":"change","op":9,"change":{"op":"delete","id":"s2"}}"#,
    r#"{"type":"change","op":10,"change":{"op":"resize","id":"s1","x":300,"y":200,"w":40,"h":300}}"#,
    r#"{"type":"change","op":11,"change":{"op":"rotate","id":"s0","rotation":22.5}}"#,
    r#"{"type":"change","op":12,"change":{"op":"create","shape":{"id":"n2","kind":"circle","x":1,"y":2,"w":30,"h":40,"rotation":90}}}"#,
    r#"{"type":"change","op":13,"change":{"op":"write","id":"s1","after":null,"at":[7,0],"text":"Plan ✓"}}"#,
    r#"{"type":"change","op":14,"change":{"op":"create","shape":{"id":"n3","kind":"circle","x":1,"y":2,"text":"hi","chars":[[0,0,1,0],[0,1,1,1],[4,0,1,0]]}}}"#,
    r#"{"type":"name","name":"Blue Otter"}"#,
    r#"{"type":"pointer","at":[12.5,300]}"#,
    r#"{"type":"selection","ids":["s1","s2"]}"#,
];

/// A valid message with some bytes replaced, inserted or removed.
fn mutated() -> impl Strategy<Value = String> {
    (0..VALID.len(), prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..6)).prop_map(
        |(which, edits)| {
            let mut bytes = VALID[which].as_bytes().to_vec();
            for (at, what, byte) in edits {
                let i = at.index(bytes.len().max(1));
                match what {
                    0 if i < bytes.len() => bytes[i] = byte,
                    1 => bytes.insert(i.min(bytes.len()), byte),
                    _ if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    _ => {}
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        },
    )
}

/// Numbers a hostile client might try.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<f64>().prop_map(|f| format!("{f:?}")),
        any::<i64>().prop_map(|i| i.to_string()),
        Just("1e999".to_owned()),
        Just("-0".to_owned()),
        Just("null".to_owned()),
        Just("\"5\"".to_owned()),
        Just("18446744073709551616".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        feed(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_messages_never_panic(text in mutated()) {
        feed(&text);
    }

    #[test]
    fn hostile_numbers_and_ids_are_refused_cleanly(
        op in number(), x in number(), y in number(),
        id in prop_oneof![Just("s1".to_owned()), "\\PC{0,80}"],
        kind in prop_oneof![Just("circle".to_owned()), "[a-z]{0,12}"],
    ) {
        let id = serde_json::to_string(&id).unwrap();
        let kind = serde_json::to_string(&kind).unwrap();
        feed(&format!(r#"{{"type":"change","op":{op},"change":{{"op":"move","id":{id},"x":{x},"y":{y}}}}}"#));
        feed(&format!(
            r#"{{"type":"change","op":{op},"change":{{"op":"create","shape":{{"id":{id},"kind":{kind},"x":{x},"y":{y}}}}}}}"#
        ));
    }

    #[test]
    fn hostile_text_is_refused_cleanly(
        text in prop_oneof![Just("x".to_owned()), "\\PC{0,12}", ".{0,12}", Just("y".repeat(5_001))],
        w in number(), n in number(), len in number(),
        after in prop_oneof![Just("null".to_owned()), Just("[0,0]".to_owned()), Just("[1]".to_owned()), number()],
    ) {
        let text = serde_json::to_string(&text).unwrap();
        feed(&format!(r#"{{"type":"change","op":1,"change":{{"op":"write","id":"s1","after":{after},"at":[{w},{n}],"text":{text}}}}}"#));
        feed(&format!(r#"{{"type":"change","op":1,"change":{{"op":"erase","id":"s1","chars":[[{w},{n},{len}]]}}}}"#));
        feed(&format!(r#"{{"type":"change","op":1,"change":{{"op":"unerase","id":"s1","chars":[[{w},{n},{len}]],"text":{text}}}}}"#));
        feed(&format!(
            r#"{{"type":"change","op":1,"change":{{"op":"create","shape":{{"id":"n","kind":"circle","x":1,"y":1,"text":{text},"chars":[[{w},{n},{len},0]]}}}}}}"#
        ));
    }

    #[test]
    fn hostile_sizes_and_rotations_are_refused_cleanly(
        x in number(), y in number(), w in number(), h in number(), r in number(),
        id in prop_oneof![Just("s1".to_owned()), Just("gone".to_owned())],
    ) {
        let id = serde_json::to_string(&id).unwrap();
        feed(&format!(r#"{{"type":"change","op":1,"change":{{"op":"resize","id":{id},"x":{x},"y":{y},"w":{w},"h":{h}}}}}"#));
        feed(&format!(r#"{{"type":"change","op":1,"change":{{"op":"rotate","id":{id},"rotation":{r}}}}}"#));
        feed(&format!(
            r#"{{"type":"change","op":1,"change":{{"op":"create","shape":{{"id":"n","kind":"circle","x":{x},"y":{y},"w":{w},"h":{h},"rotation":{r}}}}}}}"#
        ));
    }
}

#[test]
fn the_fuzzer_reaches_valid_changes_too() {
    // Guards the harness itself: if `feed` never applied anything, the
    // properties above would hold vacuously.
    assert!(feed(VALID[2]));
    assert!(feed(VALID[1]));
    assert!(feed(VALID[4]) && feed(VALID[5]) && feed(VALID[6]));
    assert!(feed(VALID[7]) && feed(VALID[8]));
    assert!(!feed(r#"{"type":"change","op":8,"change":{"op":"move","id":"s1","x":1e999,"y":200}}"#));
}
