//! Two people typing in one note at once, through real sockets: on one node
//! and on two nodes sharing a Redis, both keep every letter, each word stays
//! whole, everyone ends with the same text, bad edits change nothing, and a
//! restart keeps the text with its characters' ids.

use serde_json::{Value, json};

use crate::common::redis::{RedisServer, node};
use crate::common::{Client, TestServer};

/// Sends `word` letter by letter as writer `w`, each letter after the last
/// (the first after `after`), without waiting; returns the ops.
async fn type_word(c: &mut Client, w: u32, word: &str, after: Value) -> Vec<u64> {
    let (mut after, mut ops) = (after, Vec::new());
    for (n, letter) in word.chars().enumerate() {
        let at = json!([w, n]);
        let change = json!({"op": "write", "id": "note", "after": after, "at": at, "text": letter.to_string()});
        ops.push(c.change(change).await);
        after = at;
    }
    ops
}

/// Reads `c`'s events until it has seen `n` applied changes; returns their seqs.
async fn applied(c: &mut Client, n: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    while seqs.len() < n {
        let event = c.recv_event().await;
        assert_ne!(event["type"], "error", "{event}");
        if event["type"] == "applied" {
            seqs.push(event["seq"].as_u64().unwrap());
        }
    }
    seqs
}

/// Two writers type at the end of "Hi " at once; both words arrive whole.
async fn two_type_at_once(alice: &mut Client, bob: &mut Client) {
    let op = alice.change(json!({"op": "write", "id": "note", "after": null, "at": [9, 0], "text": "Hi "})).await;
    alice.confirmed(op).await;
    applied(bob, 1).await;
    let (a, b) = tokio::join!(type_word(alice, 1, "Anna", json!([9, 2])), type_word(bob, 2, "Bob", json!([9, 2])));
    assert_eq!((a.len(), b.len()), (4, 3));
    let (seen_a, seen_b) = tokio::join!(applied(alice, 7), applied(bob, 7));
    assert_eq!(seen_a, seen_b, "one order for both");
}

fn text_of(welcome: &Value) -> String {
    welcome["shapes"][0]["text"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_in_one_note_keep_every_letter_and_a_restart_keeps_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&server, "typing", "alice").await;
    let (mut bob, _) = Client::join(&server, "typing", "bob").await;
    let op = alice.create("note", "rectangle", 100.0, 100.0).await;
    alice.confirmed(op).await;
    applied(&mut bob, 1).await;
    two_type_at_once(&mut alice, &mut bob).await;
    let (_, welcome) = Client::join(&server, "typing", "carol").await;
    let text = text_of(&welcome);
    assert!(text == "Hi AnnaBob" || text == "Hi BobAnna", "both words whole: {text:?}");

    // Refused, each with its code, and nothing changes.
    for (bad, code) in [
        (json!({"op": "write", "id": "note", "after": [5, 5], "at": [3, 0], "text": "x"}), "bad_text"),
        (json!({"op": "write", "id": "note", "after": null, "at": [1, 2], "text": "x"}), "bad_text"),
        (json!({"op": "write", "id": "note", "after": null, "at": [3, 0], "text": "a\u{0}b"}), "bad_text"),
        (json!({"op": "write", "id": "note", "after": null, "at": [3, 0], "text": "x".repeat(4_991)}), "text_too_long"),
        (json!({"op": "erase", "id": "note", "chars": [[1, 3, 2]]}), "bad_text"),
        (json!({"op": "write", "id": "gone", "after": null, "at": [3, 0], "text": "x"}), "unknown_shape"),
    ] {
        let op = alice.change(bad.clone()).await;
        let refusal = alice.recv_event().await;
        assert_eq!((refusal["code"].clone(), refusal["op"].clone()), (json!(code), json!(op)), "{bad}: {refusal}");
    }
    let surrogate =
        r#"{"type":"change","op":900,"change":{"op":"write","id":"note","after":null,"at":[3,0],"text":"\ud800"}}"#;
    alice.send_text(surrogate).await;
    assert_eq!(alice.recv_event().await["code"], "bad_message");

    // Bob erases Alice's first letter; text and ids survive a restart.
    let op = bob.change(json!({"op": "erase", "id": "note", "chars": [[1, 0, 1]]})).await;
    bob.confirmed(op).await;
    let (_, before) = Client::join(&server, "typing", "dave").await;
    server.stop().await;
    let server = TestServer::start(&dir).await;
    let (mut erin, after) = Client::join(&server, "typing", "erin").await;
    assert_eq!(after["shapes"], before["shapes"]);
    assert_eq!(text_of(&after), text.replacen('A', "", 1));
    // A write after the erased letter still has its place.
    let op = erin.change(json!({"op": "write", "id": "note", "after": [1, 0], "at": [4, 0], "text": "Ä"})).await;
    erin.confirmed(op).await;
    let (_, last) = Client::join(&server, "typing", "frank").await;
    assert_eq!(text_of(&last), text.replacen('A', "Ä", 1));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_on_two_nodes_keep_every_letter() {
    let (rd, da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let redis = RedisServer::start(rd.path());
    let (a, b) = (node(&da, &redis).await, node(&db, &redis).await);
    let (mut alice, _) = Client::join(&a, "typing2", "alice").await;
    let (mut bob, _) = Client::join(&b, "typing2", "bob").await;
    let op = alice.create("note", "rectangle", 100.0, 100.0).await;
    alice.confirmed(op).await;
    applied(&mut bob, 1).await;
    two_type_at_once(&mut alice, &mut bob).await;
    let (_, on_a) = Client::join(&a, "typing2", "carol").await;
    let (_, on_b) = Client::join(&b, "typing2", "dave").await;
    assert_eq!(on_a["shapes"], on_b["shapes"]);
    let text = text_of(&on_a);
    assert!(text == "Hi AnnaBob" || text == "Hi BobAnna", "both words whole: {text:?}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_box_fitted_as_it_is_typed_survives_a_restart_and_is_drawn_as_its_text_alone() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&server, "texts", "alice").await;
    // What the Text tool sends: an empty box where the click was, then each burst of letters with
    // the box fitted to them in the same batch.
    let create = json!({"op": "create", "shape": {"id": "t1", "kind": "text", "x": 392, "y": 277, "w": 28, "h": 46}});
    let op = alice.change(create).await;
    alice.confirmed(op).await;
    let typed = json!({"op": "batch", "changes": [
        {"op": "write", "id": "t1", "after": null, "at": [7, 0], "text": "Plan <b>"},
        {"op": "resize", "id": "t1", "x": 392, "y": 277, "w": 124, "h": 46},
    ]});
    let op = alice.change(typed).await;
    alice.confirmed(op).await;
    server.stop().await;

    let server = TestServer::start(&dir).await;
    let (_, welcome) = Client::join(&server, "texts", "bob").await;
    let shape = &welcome["shapes"][0];
    assert_eq!(
        (&shape["kind"], &shape["text"], &shape["w"], &shape["h"]),
        (&json!("text"), &json!("Plan <b>"), &json!(124.0), &json!(46.0))
    );
    let (status, _, svg) = crate::common::http_get(server.addr, "/r/texts.svg").await;
    assert_eq!(status, 200);
    // Its text, escaped, in grey's dark shade; no box drawn around it, nothing cut off.
    assert!(svg.contains("fill=\"#495057\"") && svg.contains(">Plan &lt;b&gt;</tspan>"), "{svg}");
    assert!(!svg.contains("<rect x=\"392\"") && !svg.contains("clip"), "{svg}");
    server.stop().await;
}
