//! Batches, colours and layers through real sockets: a batch is one `seq` and
//! one `applied` for everyone, a refused batch changes nothing anywhere, and
//! colours and layers survive a restart.

use crate::common::{Client, TestServer};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_one_seq_for_everyone_and_a_refused_one_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&server, "batches", "alice").await;
    let (mut bob, _) = Client::join(&server, "batches", "bob").await;
    for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
        let op = alice.create(id, "circle", 100.0 * i as f64, 0.0).await;
        alice.confirmed(op).await;
    }
    for _ in 0..3 {
        bob.recv_event().await;
    }

    // Three moves as one batch: one seq, one applied, the whole of it.
    let moves: Vec<_> =
        ["a", "b", "c"].iter().map(|id| json!({"op": "move", "id": id, "x": 500.0, "y": 400.0})).collect();
    let op = alice.change(json!({"op": "batch", "changes": moves})).await;
    let mine = alice.confirmed(op).await;
    let theirs = bob.recv_event().await;
    assert_eq!((mine["seq"].clone(), theirs["seq"].clone()), (json!(4), json!(4)), "numbered once");
    assert_eq!(theirs["change"]["changes"].as_array().map(Vec::len), Some(3), "{theirs}");

    // One bad change in a batch refuses all of it, with its code and place.
    let bad = json!({"op": "batch", "changes": [
        {"op": "color", "id": "a", "color": "red"},
        {"op": "move", "id": "nobody", "x": 1.0, "y": 1.0},
    ]});
    let op = alice.change(bad).await;
    let refusal = alice.recv_event().await;
    assert_eq!(
        (refusal["type"].clone(), refusal["code"].clone(), refusal["op"].clone()),
        (json!("error"), json!("unknown_shape"), json!(op))
    );
    assert!(refusal["message"].as_str().unwrap_or_default().starts_with("change 2 of the batch"), "{refusal}");
    for (bad, code) in [
        (json!({"op": "batch", "changes": []}), "bad_batch"),
        (json!({"op": "batch", "changes": [{"op": "batch", "changes": [{"op": "delete", "id": "a"}]}]}), "bad_batch"),
        (json!({"op": "layer", "id": "a", "z": 1_i64 << 41}), "bad_layer"),
    ] {
        alice.change(bad).await;
        assert_eq!(alice.recv_event().await["code"], code);
    }
    let unknown_colour = json!({"type": "change", "op": 99, "change": {"op": "color", "id": "a", "color": "mauve"}});
    alice.send_json(&unknown_colour).await;
    assert_eq!(alice.recv_event().await["code"], "bad_message");

    // Nothing of the refused ones reached Bob or the board.
    let op = alice.change(json!({"op": "color", "id": "a", "color": "teal"})).await;
    alice.confirmed(op).await;
    let next = bob.recv_event().await;
    assert_eq!((next["seq"].clone(), next["change"]["op"].clone()), (json!(5), json!("color")), "{next}");
    let (_, welcome) = Client::join(&server, "batches", "carol").await;
    let a = &welcome["shapes"][0];
    assert_eq!((a["id"].clone(), a["x"].clone(), a["color"].clone()), (json!("a"), json!(500.0), json!("teal")));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colours_and_layers_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut a, _) = Client::join(&server, "layers", "a").await;
    a.create("under", "rectangle", 0.0, 0.0).await;
    a.create("over", "rectangle", 50.0, 50.0).await;
    a.change(json!({"op": "layer", "id": "under", "z": 1})).await;
    let op = a.change(json!({"op": "color", "id": "over", "color": "violet"})).await;
    a.confirmed(op).await;
    server.stop().await;

    let server = TestServer::start(&dir).await;
    let (_, welcome) = Client::join(&server, "layers", "b").await;
    assert_eq!(
        welcome["shapes"],
        json!([
            {"id": "over", "kind": "rectangle", "x": 50.0, "y": 50.0, "w": 160.0, "h": 100.0, "color": "violet"},
            {"id": "under", "kind": "rectangle", "x": 0.0, "y": 0.0, "w": 160.0, "h": 100.0, "z": 1},
        ]),
        "drawing order by layer, and each field kept"
    );
    server.stop().await;
}
