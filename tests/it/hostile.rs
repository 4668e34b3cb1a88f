//! Bad input from a browser, a script or a hostile client: each gets a clear
//! error and changes nothing.

use crate::common;

use crate::common::{Client, TestServer, http_get, try_connect_with};
use futures_util::SinkExt;
use serde_json::json;
use sketchboard_core::protocol::PROTOCOL_VERSION;
use tokio_tungstenite::tungstenite::Message;

/// Sends `text` and expects an error with `code`; then proves the room is unchanged.
async fn refused(c: &mut Client, text: &str, code: &str) {
    c.send_text(text).await;
    let e = c.recv_event().await;
    assert_eq!(e["type"], "error", "{text} → {e}");
    assert_eq!(e["code"], code, "{text} → {e}");
    assert!(!e["message"].as_str().unwrap_or_default().is_empty(), "errors explain themselves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_get_errors_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut evil, _) = Client::join(&server, "target", "evil").await;
    let (mut witness, _) = Client::join(&server, "target", "witness").await;
    evil.create("real", "rectangle", 100.0, 100.0).await;
    evil.recv_event().await;
    witness.recv_event().await;

    for junk in [
        "not json",
        "{}",
        "[1,2,3]",
        r#"{"type":"shout","text":"hi"}"#,
        r#"{"type":"change","op":1}"#,
        r#"{"type":"change","op":"1","change":{"op":"delete","id":"real"}}"#,
        r#"{"type":"change","op":1,"change":{"op":"create","shape":{"id":"x","kind":"hexagon","x":1,"y":1}}}"#,
        r#"{"type":"change","op":1,"change":{"op":"create","shape":{"id":"bad id!","kind":"circle","x":1,"y":1}}}"#,
        r#"{"type":"change","op":1,"change":{"op":"move","id":"real","x":1e999,"y":1}}"#,
        r#"{"type":"change","op":1,"change":{"op":"move","id":"real","x":null,"y":1}}"#,
        r#"{"type":"change","op":9007199254740993,"change":{"op":"delete","id":"real"}}"#,
    ] {
        refused(&mut evil, junk, "bad_message").await;
    }
    let msg = |change: serde_json::Value| json!({"type": "change", "op": 5, "change": change}).to_string();
    refused(&mut evil, &msg(json!({"op": "move", "id": "real", "x": -1.0, "y": 0.0})), "out_of_bounds").await;
    refused(&mut evil, &msg(json!({"op": "move", "id": "real", "x": 1e300, "y": 0.0})), "out_of_bounds").await;
    refused(&mut evil, &msg(json!({"op": "move", "id": "ghost", "x": 1.0, "y": 1.0})), "unknown_shape").await;
    let dup =
        json!({"op": "create", "shape": {"id": "real", "kind": "circle", "x": 1.0, "y": 1.0, "w": 120.0, "h": 120.0}});
    refused(&mut evil, &msg(dup), "duplicate_shape").await;
    refused(&mut evil, r#"{"type":"hello","version":2,"client":"again"}"#, "hello_first").await;
    evil.ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(evil.recv_event().await["code"], "bad_message");

    // An error names the refused change, so the client can roll it back.
    let e = {
        evil.send_text(msg(json!({"op": "move", "id": "ghost", "x": 1.0, "y": 1.0}))).await;
        evil.recv_event().await
    };
    assert_eq!(e["op"], 5);

    // The witness saw none of it, and the room is as it was.
    witness.assert_nothing_pending("witness-probe").await;
    let (_, welcome) = Client::join(&server, "target", "late").await;
    assert_eq!(welcome["seq"], 2, "only the real shape and the probe were recorded");
    assert_eq!(
        welcome["shapes"][0],
        json!({"id": "real", "kind": "rectangle", "x": 100.0, "y": 100.0, "w": 160.0, "h": 100.0})
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_closes_with_1009() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut evil, _) = Client::join(&server, "big", "evil").await;
    let huge = format!(r#"{{"type":"change","op":1,"change":{{"op":"delete","id":"{}"}}}}"#, "a".repeat(70_000));
    evil.send_text(huge).await;
    let err = evil.recv_event().await;
    assert_eq!(err["code"], "message_too_large");
    let frame = evil.closed().await.expect("a close frame");
    assert_eq!(u16::from(frame.code), 1009);
    let (_, welcome) = Client::join(&server, "big", "after").await;
    assert_eq!(welcome["seq"], 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handshake_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;

    // A tab of the protocol before this one (5: shapes without sizes) is told to reload.
    let mut c = Client::wrap(Client::raw(&server, "hs").await);
    let old_tab = json!({"type": "hello", "version": PROTOCOL_VERSION - 1, "client": "old"});
    c.send_json(&old_tab).await;
    let answer = c.recv_event().await;
    assert_eq!(answer["code"], "version_mismatch");
    assert!(answer["message"].as_str().unwrap_or_default().contains("reload the page"), "{answer}");
    assert_eq!(c.closed().await.map(|f| u16::from(f.code)), Some(4001));

    c = Client::wrap(Client::raw(&server, "hs").await);
    c.send_text(r#"{"type":"change","op":1,"change":{"op":"delete","id":"a"}}"#).await;
    assert_eq!(c.recv_event().await["code"], "hello_first");
    assert_eq!(c.closed().await.map(|f| u16::from(f.code)), Some(4001));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_room_names_and_foreign_origins_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let base = format!("ws://{}/ws", server.addr);
    for bad in ["a%20b", "%3Cscript%3E", &"x".repeat(65), "a.b"] {
        assert_eq!(try_connect_with(&format!("{base}/{bad}"), &[]).await.err(), Some(400), "{bad}");
    }
    let same = format!("http://{}", server.addr);
    assert!(try_connect_with(&format!("{base}/ok"), &[("Origin", &same)]).await.is_ok());
    let foreign = try_connect_with(&format!("{base}/ok"), &[("Origin", "https://evil.example")]).await;
    assert_eq!(foreign.err(), Some(403));
    server.stop().await;

    // An allowlisted origin is let in.
    let server = TestServer::start_with(&dir, |c| c.allowed_origins = vec!["https://board.example".into()]).await;
    let base = format!("ws://{}/ws", server.addr);
    assert!(try_connect_with(&format!("{base}/ok"), &[("Origin", "https://board.example")]).await.is_ok());
    assert_eq!(try_connect_with(&format!("{base}/ok"), &[("Origin", "https://evil.example")]).await.err(), Some(403));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_answer_with_the_right_status() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    assert_eq!(http_get(server.addr, "/healthz").await.0, 200);
    let (status, _, body) = http_get(server.addr, "/r/not%20a%20room").await;
    assert_eq!(status, 400);
    assert!(body.contains("Invalid room name"));
    let (status, _, body) = http_get(server.addr, "/r/fine-room_1").await;
    assert_eq!(status, 200);
    for name in ["Rectangle", "Triangle", "Circle", "Shapes on the board"] {
        assert!(body.contains(name), "the room page renders {name} on the server");
    }
    assert_eq!(http_get(server.addr, "/no/such/page").await.0, 404);
    let (status, head, _) = http_get(server.addr, "/new?name=team-42").await;
    assert_eq!(status, 303);
    assert!(head.to_ascii_lowercase().contains("location: /r/team-42"), "{head}");
    let (status, head, _) = http_get(server.addr, "/new").await;
    assert_eq!(status, 303);
    assert!(head.to_ascii_lowercase().contains("location: /r/room-"), "{head}");
    assert_eq!(http_get(server.addr, "/new?name=%3Cb%3E").await.0, 400);
    server.stop().await;
}

/// Random damage to valid messages, through a real connection: every frame
/// gets exactly one answer, and the room ends exactly as the model says it
/// should (only the frames that decode to valid, fresh changes applied).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzed_frames_change_only_what_is_valid() {
    use sketchboard_core::model::Board;
    use sketchboard_core::protocol::ClientMsg;

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut evil, _) = Client::join(&server, "target", "evil").await;
    let valid = [
        r#"{"type":"change","op":OP,"change":{"op":"create","shape":{"id":"n1","kind":"circle","x":10,"y":20}}}"#,
        r#"{"type":"change","op":OP,"change":{"op":"move","id":"n1","x":300,"y":200}}"#,
        r#"{"type":"change","op":OP,"change":{"op":"delete","id":"n1"}}"#,
        r#"{"type":"hello","version":5,"client":"evil"}"#,
    ];
    let mut dice = common::Dice(7);
    let (mut expected, mut last_op) = (Board::new(), 0);
    let (mut applied, mut refused) = (0, 0);
    for i in 1..=400 {
        let template = valid[dice.roll(valid.len() as u64) as usize];
        let mut bytes = template.replace("OP", &i.to_string()).into_bytes();
        for _ in 0..dice.roll(4) {
            let i = dice.roll(bytes.len() as u64) as usize;
            bytes[i] = b"0123456789{}[]\":,.-eEnul ab"[dice.roll(27) as usize];
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        // What the room must do with it: its own rules, applied to a model.
        if let Ok(ClientMsg::Change { op, change }) = ClientMsg::decode(&text)
            && op > last_op
            && expected.apply(&change).is_ok()
        {
            last_op = op;
        }
        evil.send_text(text.clone()).await;
        let answer = evil.recv_event().await;
        match answer["type"].as_str() {
            Some("applied") => applied += 1,
            Some("error") => refused += 1,
            _ => panic!("{text} → {answer}"),
        }
    }
    assert!(applied > 5 && refused > 100, "the damage mixes valid and invalid: {applied} applied, {refused} refused");
    let (_witness, welcome) = Client::join(&server, "target", "witness").await;
    let board: Board = serde_json::from_value(welcome["shapes"].clone()).expect("a board");
    assert_eq!(board, expected, "the room holds exactly the valid changes");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_strings_are_never_rendered_as_html() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    // The bad-name page repeats the name it was given: as text.
    let (status, _, body) = http_get(server.addr, "/r/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E").await;
    assert_eq!(status, 400);
    assert!(!body.contains("<img"), "the name must not become markup: {body}");
    assert!(body.contains("&lt;img src=x onerror=alert(1)&gt;"), "it is shown escaped: {body}");
    let (_, _, body) = http_get(server.addr, "/new?name=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert!(!body.contains("<script>alert"), "{body}");
    server.stop().await;
}
