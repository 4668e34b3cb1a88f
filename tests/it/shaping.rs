//! Shapes resized and turned through real sockets: everyone sees them, two
//! people changing different properties of one shape both keep theirs, bad
//! sizes and angles are refused and change nothing, and a restart, the
//! pictures and the board file keep them.

use crate::common::{Client, TestServer, http_get};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resizes_and_turns_reach_everyone_merge_by_property_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&server, "shaping", "alice").await;
    let (mut bob, _) = Client::join(&server, "shaping", "bob").await;
    let op = alice.create("box", "rectangle", 100.0, 100.0).await;
    alice.confirmed(op).await;
    bob.recv_event().await;

    // Alice resizes by the top-left corner while Bob recolours and turns it:
    // each sets its own property, so all three hold, whatever the order.
    let resize = json!({"op": "resize", "id": "box", "x": 80.0, "y": 60.0, "w": 240.0, "h": 140.0});
    alice.change(resize.clone()).await;
    bob.change(json!({"op": "color", "id": "box", "color": "red"})).await;
    bob.change(json!({"op": "rotate", "id": "box", "rotation": 30.0})).await;
    // Each sees all three, in one order.
    let (mut by_alice, mut by_bob) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        by_alice.push(alice.recv_event().await["seq"].clone());
        let event = bob.recv_event().await;
        if event["change"]["op"] == "resize" {
            assert_eq!(event["change"], resize, "Bob saw Alice's resize as she sent it");
        }
        by_bob.push(event["seq"].clone());
    }
    assert_eq!((by_alice, by_bob), (vec![json!(2), json!(3), json!(4)], vec![json!(2), json!(3), json!(4)]));

    // Refused, each with its code, and nothing changes.
    for (bad, code) in [
        (json!({"op": "resize", "id": "box", "x": 0.0, "y": 0.0, "w": 0.0, "h": 50.0}), "bad_size"),
        (json!({"op": "resize", "id": "box", "x": 0.0, "y": 0.0, "w": 50.0, "h": 1001.0}), "bad_size"),
        (json!({"op": "resize", "id": "box", "x": 1590.0, "y": 0.0, "w": 50.0, "h": 50.0}), "out_of_bounds"),
        (json!({"op": "resize", "id": "gone", "x": 0.0, "y": 0.0, "w": 50.0, "h": 50.0}), "unknown_shape"),
        (json!({"op": "rotate", "id": "box", "rotation": 1e308}), "bad_rotation"),
        (json!({"op": "rotate", "id": "box", "rotation": 360.0}), "bad_rotation"),
        (json!({"op": "rotate", "id": "gone", "rotation": 10.0}), "unknown_shape"),
        (json!({"op": "move", "id": "box", "x": 1400.0, "y": 0.0}), "out_of_bounds"),
        (
            json!({"op": "create", "shape": {"id": "tiny", "kind": "circle", "x": 1.0, "y": 1.0, "w": 9.0, "h": 9.0}}),
            "bad_size",
        ),
    ] {
        let op = alice.change(bad.clone()).await;
        let refusal = alice.recv_event().await;
        assert_eq!((refusal["code"].clone(), refusal["op"].clone()), (json!(code), json!(op)), "{bad}: {refusal}");
    }
    let nan = r#"{"type":"change","op":500,"change":{"op":"rotate","id":"box","rotation":NaN}}"#;
    alice.send_text(nan).await;
    assert_eq!(alice.recv_event().await["code"], "bad_message");
    let expected = json!({
        "id": "box", "kind": "rectangle", "x": 80.0, "y": 60.0, "w": 240.0, "h": 140.0, "rotation": 30.0, "color": "red"
    });
    let (_, welcome) = Client::join(&server, "shaping", "carol").await;
    assert_eq!(welcome["shapes"], json!([expected]));
    server.stop().await;

    let server = TestServer::start(&dir).await;
    let (_, welcome) = Client::join(&server, "shaping", "dave").await;
    assert_eq!(welcome["shapes"], json!([expected]), "a restart keeps size and turn");
    let (status, _, svg) = http_get(server.addr, "/r/shaping.svg").await;
    assert_eq!(status, 200);
    assert!(
        svg.contains(r#"<rect x="80" y="60" width="240" height="140""#)
            && svg.contains(r#"transform="rotate(30 200 130)""#),
        "{svg}"
    );
    let (status, _, file) = http_get(server.addr, "/r/shaping.json").await;
    assert_eq!(status, 200);
    let file: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(file["version"], 2);
    let shape = &file["shapes"][0];
    assert_eq!(
        (shape["w"].clone(), shape["h"].clone(), shape["rotation"].clone()),
        (json!(240.0), json!(140.0), json!(30.0))
    );
    server.stop().await;
}
