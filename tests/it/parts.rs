//! Changes too large for one message, sent in parts (`part` messages, as the
//! page's session splits them): a board's worth of shapes goes in as one
//! recorded change, seen whole by everyone, undone as one, and kept across a
//! restart; parts out of order, interrupted, malformed, or beyond the
//! server's room for them are refused and change nothing.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sketchboard_core::model::{Change, MAX_SHAPES, Shape, ShapeId, ShapeKind};
use sketchboard_core::protocol::{ClientMsg, MAX_MESSAGE_BYTES, MAX_PARTS};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{Client, PATIENCE, TestServer, get_json};

/// `n` new shapes with ids as long as the page makes them (32 hex digits).
fn creates(n: usize) -> Change {
    let shape = |i: usize| {
        let id = ShapeId::parse(format!("{i:032x}")).unwrap();
        Shape::new(id, ShapeKind::Rectangle, (i % 100) as f64 * 13.0, (i / 100) as f64 * 8.0)
    };
    Change::Batch { changes: (0..n).map(|i| Change::Create { shape: shape(i) }).collect() }
}

fn deletes(n: usize) -> Change {
    Change::Batch {
        changes: (0..n).map(|i| Change::Delete { id: ShapeId::parse(format!("{i:032x}")).unwrap() }).collect(),
    }
}

/// Sends change `op` as the session would; how many messages it took.
async fn send_change(c: &mut Client, op: u64, change: Change) -> usize {
    let messages = ClientMsg::for_change(op, change);
    for msg in &messages {
        let text = msg.to_json();
        assert!(text.len() <= MAX_MESSAGE_BYTES, "each message within the limit: {}", text.len());
        c.send_text(text).await;
    }
    messages.len()
}

/// A change as a member heard it: one `applied`, or `applied_part`s.
struct Heard {
    seq: u64,
    op: Option<u64>,
    changes: usize,
    parts: usize,
}

/// Reads the next change, in parts or not; checks the parts come in order
/// and each within the message limit.
async fn whole_change(c: &mut Client) -> Heard {
    let mut heard = Heard { seq: 0, op: None, changes: 0, parts: 0 };
    loop {
        let frame = c.next_frame().await;
        let Message::Text(text) = frame else { panic!("a text frame") };
        assert!(text.len() <= MAX_MESSAGE_BYTES, "{} bytes in one message", text.len());
        let msg: Value = serde_json::from_str(&text).unwrap();
        let (seq, op) = (msg["seq"].as_u64().unwrap_or(0), msg["op"].as_u64());
        match msg["type"].as_str() {
            Some("applied") => {
                let changes = msg["change"]["changes"].as_array().map_or(1, Vec::len);
                return Heard { seq, op, changes, parts: 1 };
            }
            Some("applied_part") => {
                assert_eq!(msg["part"].as_u64(), Some(heard.parts as u64), "parts in order");
                assert!(heard.parts == 0 || (heard.seq, heard.op) == (seq, op), "parts of one change");
                (heard.seq, heard.op, heard.parts) = (seq, op, heard.parts + 1);
                heard.changes += msg["changes"].as_array().map_or(0, Vec::len);
                if msg["parts"].as_u64() == Some(heard.parts as u64) {
                    return heard;
                }
            }
            _ => assert!(crate::common::is_presence(&msg), "expected a change, got {}", msg["type"]),
        }
    }
}

fn part(op: u64, part: u32, parts: u32, changes: Value) -> Value {
    json!({"type": "part", "op": op, "part": part, "parts": parts, "changes": changes})
}

/// Part `part` of `parts` of change `op` heavy enough that five of them, as
/// first parts, fill a 1 MiB budget and a sixth does not fit: the server
/// weighs a part as its frame plus its changes as decoded, and holds a
/// message's worth more for the part after it. (Moves of a shape nobody
/// made by `shape_a`.)
fn heavy(op: u64, part_no: u32, parts: u32) -> String {
    let mib = 1024 * 1024;
    let one = r#"{"op":"move","id":"a","x":100,"y":200}"#;
    let text = |n: usize| {
        let moves = vec![one; n].join(",");
        format!(r#"{{"type":"part","op":{op},"part":{part_no},"parts":{parts},"changes":[{moves}]}}"#)
    };
    let weighs = |n: usize| text(n).len() + n * std::mem::size_of::<Change>() + MAX_MESSAGE_BYTES;
    // A fifth of the budget, less a tenth of a part for the room's other needs.
    let per_move = one.len() + 1 + std::mem::size_of::<Change>();
    let n = (mib / 5 - MAX_MESSAGE_BYTES - 2_000) / per_move;
    assert!(text(n).len() <= MAX_MESSAGE_BYTES, "no part that heavy fits a message");
    assert!(weighs(n) * 5 <= mib && weighs(n) * 6 > mib, "five fit and six do not");
    text(n)
}

/// Makes the shape `heavy` parts move, in room "busy", from an address of its own.
async fn shape_a(server: &TestServer) {
    let mut maker = join_from(server, "192.0.2.1", "maker").await;
    let op = maker.create("a", "circle", 10.0, 10.0).await;
    maker.confirmed(op).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_sized_import_is_one_change_seen_whole_undone_whole_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&server, "big", "alice").await;
    let (mut bob, bob_welcome) = Client::join(&server, "big", "bob").await;

    let sent = send_change(&mut alice, 1, creates(MAX_SHAPES)).await;
    assert!(sent > 1 && sent <= MAX_PARTS as usize, "{MAX_SHAPES} shapes went in {sent} parts");
    let confirmed = whole_change(&mut alice).await;
    assert_eq!((confirmed.seq, confirmed.op, confirmed.changes), (1, Some(1), MAX_SHAPES), "one recorded change");
    assert!(confirmed.parts > 1, "sent back in parts too, each within the limit");
    let seen = whole_change(&mut bob).await;
    assert_eq!((seen.seq, seen.op, seen.changes), (1, None, MAX_SHAPES), "seen whole by the others");
    let (_, room) = get_json(server.addr, "/api/rooms/big").await;
    assert_eq!((room["seq"].clone(), room["shapes"].as_array().map(Vec::len)), (json!(1), Some(MAX_SHAPES)));
    let (_, log) = get_json(server.addr, "/api/rooms/big/changes?after=0&limit=10").await;
    assert_eq!(log["changes"].as_array().map(Vec::len), Some(1), "the log holds it as one change");

    // A tab that missed it is sent the board (in parts), not one catch-up
    // message as large as the import.
    let epoch = bob_welcome["epoch"].as_u64().unwrap();
    let (_, answer) = Client::rejoin(&server, "big", "dora", epoch, 0).await;
    assert_eq!(
        (answer["type"].clone(), answer["shapes"].as_array().map(Vec::len)),
        (json!("welcome"), Some(MAX_SHAPES))
    );

    // Undone as the page undoes it: one change again.
    send_change(&mut alice, 2, deletes(MAX_SHAPES)).await;
    assert_eq!((whole_change(&mut alice).await.seq, whole_change(&mut bob).await.seq), (2, 2));

    // Kept across a restart, and its version still reads whole.
    server.stop().await;
    let server = TestServer::start(&dir).await;
    let (_, welcome) = Client::join(&server, "big", "carol").await;
    assert_eq!((welcome["seq"].clone(), welcome["shapes"].as_array().map(Vec::len)), (json!(2), Some(0)));
    let (_, v1) = get_json(server.addr, "/api/rooms/big/versions/1").await;
    assert_eq!(v1["shapes"].as_array().map(Vec::len), Some(MAX_SHAPES));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_out_of_order_interrupted_or_malformed_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&server, "parts", "alice").await;
    let op = alice.create("a", "circle", 10.0, 10.0).await;
    alice.confirmed(op).await;
    let nudge = |x: u32| json!([{"op": "move", "id": "a", "x": x, "y": 10}]);
    let refused = |msg: &Value, code: &str, op: u64| {
        assert_eq!((&msg["type"], &msg["code"], &msg["op"]), (&json!("error"), &json!(code), &json!(op)), "{msg}");
    };

    // A part with no part 0 before it.
    alice.send_json(&part(2, 1, 2, nudge(100))).await;
    refused(&alice.recv_event().await, "bad_batch", 2);
    // A change interrupted by another message: refused once, its last part dropped quietly.
    alice.send_json(&part(3, 0, 2, nudge(200))).await;
    alice.send_json(&json!({"type": "pointer", "at": [5, 5]})).await;
    alice.send_json(&part(3, 1, 2, nudge(300))).await;
    refused(&alice.recv_event().await, "bad_batch", 3);
    // A new part 0 abandons the change under way; the new one goes in whole.
    alice.send_json(&part(4, 0, 2, nudge(400))).await;
    alice.send_json(&part(5, 0, 2, nudge(500))).await;
    refused(&alice.recv_event().await, "bad_batch", 4);
    alice.send_json(&part(5, 1, 2, nudge(600))).await;
    let applied = alice.recv_event().await;
    assert_eq!((&applied["op"], &applied["seq"]), (&json!(5), &json!(2)), "{applied}");
    assert_eq!(applied["change"]["changes"].as_array().map(Vec::len), Some(2));
    // Malformed parts are bad messages.
    for bad in [
        part(6, 2, 2, nudge(1)),
        part(6, 0, MAX_PARTS + 1, nudge(1)),
        part(6, 0, 1, nudge(1)),
        part(6, 0, 2, json!([])),
    ] {
        alice.send_json(&bad).await;
        let answer = alice.recv_event().await;
        assert_eq!(answer["code"], "bad_message", "{bad} → {answer}");
    }
    let mut alice = alice.ops_after(6);
    alice.assert_nothing_pending("b").await;
    let (_, room) = get_json(server.addr, "/api/rooms/parts").await;
    let a = room["shapes"].as_array().unwrap().iter().find(|s| s["id"] == "a").cloned().unwrap();
    assert_eq!((room["seq"].clone(), a["x"].clone()), (json!(3), json!(600.0)), "only op 5 went in (and b)");
    server.stop().await;
}

/// The server holds at most `--parts-budget-mib` of changes under way, one
/// address at most a quarter of it, and a change holds room only for the
/// parts it sent and the next: one more that finds no room, while every
/// holder is sending, is refused `busy` (and closed, so nothing sent after it
/// goes in first), and goes in once there is room again. (Addresses as a
/// trusted proxy names them.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_in_parts_beyond_the_servers_room_are_refused_busy_until_there_is_room() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.parts_budget_mib = 1;
    })
    .await;
    shape_a(&server).await;
    // 1 MiB; 256 KiB a quarter. Each holder's first part weighs a little under a fifth.
    let create =
        |i: u32| json!([{"op": "create", "shape": {"id": format!("p{i}"), "kind": "circle", "x": i, "y": 10}}]);
    let from = |n: usize| format!("10.0.0.{n}");
    let mut holders = Vec::new();
    for address in 1..=5 {
        let mut c = join_from(&server, &from(address), &format!("holder{address}")).await;
        c.send_text(heavy(1, 0, MAX_PARTS)).await;
        assert!(heard_only_pong(&mut c).await.is_none(), "address {address} has room");
        holders.push(c);
    }
    // One more from an address that holds its share, and one from a sixth address once everything
    // is held by changes still arriving: refused, and closed (1013).
    for (who, address) in [("greedy", from(1)), ("late", from(6))] {
        let mut c = join_from(&server, &address, who).await;
        c.send_text(heavy(1, 0, MAX_PARTS)).await;
        c.create("after", "circle", 10.0, 10.0).await;
        let refusal = c.recv_event().await;
        assert_eq!((&refusal["code"], &refusal["op"]), (&json!("busy"), &json!(1)), "{who}: {refusal}");
        let closed = c.closed().await.map(|f| u16::from(f.code));
        assert_eq!(closed, Some(sketchboard_core::protocol::close::TRY_AGAIN_LATER), "{who}");
    }
    let (_, room) = get_json(server.addr, "/api/rooms/busy").await;
    assert_eq!(room["seq"], 1, "nothing sent after a busy change went in");

    // One holder leaves: its room comes back (once the server notices), and the late change goes in
    // whole, sent again on a new connection as the page does.
    drop(holders.pop());
    let op = 1;
    let serving = &server;
    let taken = || async move {
        let mut late = join_from(serving, &from(6), "late").await;
        late.send_text(heavy(op, 0, 2)).await;
        heard_only_pong(&mut late).await.is_none().then_some(late)
    };
    let what = "the room a closed connection held comes back";
    let mut late = crate::common::eventually(what, std::time::Duration::from_millis(20), taken).await;
    late.send_json(&part(op, 1, 2, create(1))).await;
    let applied = late.confirmed(op).await;
    assert!(applied["change"]["changes"].as_array().is_some_and(|c| c.len() > 100), "whole: {applied}");
    server.stop().await;
}

/// A flood of first parts that never go on (re-sent as each is abandoned,
/// from many addresses) holds the whole budget only until an honest change
/// needs room: the stalled ones give way, and the honest change goes in on
/// its first try. The flood's addresses, abandoning change after change, wait
/// longer and longer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_honest_change_gets_in_while_stalled_parts_hold_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.parts_budget_mib = 1;
    })
    .await;
    let create =
        |i: u32| json!([{"op": "create", "shape": {"id": format!("h{i}"), "kind": "circle", "x": i, "y": 10}}]);
    shape_a(&server).await;
    let mut flood = Vec::new();
    for address in 1..=8 {
        let mut c = join_from(&server, &format!("10.0.1.{address}"), &format!("flood{address}")).await;
        c.send_text(heavy(1, 0, MAX_PARTS)).await;
        // The first five fill the budget; the rest find it full.
        let _ = heard_only_pong(&mut c).await;
        flood.push(c);
    }
    // What makes a change stalled is time without a part: wait that long, not for luck.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let mut honest = join_from(&server, "198.51.100.20", "honest").await;
    honest.send_text(heavy(1, 0, 2)).await;
    honest.send_json(&part(1, 1, 2, create(2))).await;
    let applied = honest.confirmed(1).await;
    assert!(applied["change"]["changes"].as_array().is_some_and(|c| c.len() > 100), "in on its first try: {applied}");
    // A stalled change that gave way was told so at once.
    let mut told = 0;
    for c in &mut flood {
        while let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(std::time::Duration::from_millis(50), c.ws.next()).await
        {
            let msg: Value = serde_json::from_str(&text).unwrap();
            if msg["code"] == "bad_batch" && msg["message"].as_str().is_some_and(|m| m.contains("needed the room")) {
                told += 1;
            }
        }
    }
    assert!(told >= 1, "the change that gave way heard why");
    server.stop().await;
}

/// Part 0 sent twice for one op, then part 1: the op is refused once and
/// never recorded (once it was both refused and applied).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_op_whose_first_part_comes_twice_gets_one_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&server, "twice", "alice").await;
    let create =
        |i: u32| json!([{"op": "create", "shape": {"id": format!("t{i}"), "kind": "circle", "x": i, "y": 10}}]);
    alice.send_json(&part(1, 0, 2, create(0))).await;
    alice.send_json(&part(1, 0, 2, create(0))).await;
    alice.send_json(&part(1, 1, 2, create(1))).await;
    let answer = alice.recv_event().await;
    assert_eq!((&answer["code"], &answer["op"]), (&json!("bad_batch"), &json!(1)), "{answer}");
    let mut alice = alice.ops_after(1);
    alice.assert_nothing_pending("after").await;
    let (_, room) = get_json(server.addr, "/api/rooms/twice").await;
    assert_eq!(room["seq"], 1, "only the change after it was recorded");
    server.stop().await;
}

/// A change whose client sends only pings after its first part is abandoned
/// in the ordinary time: pings (and the rate limit they bring on) earn it none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_do_not_keep_a_change_in_parts_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut c, _) = Client::join(&server, "pings", "pinger").await;
    let create = json!([{"op": "create", "shape": {"id": "p", "kind": "circle", "x": 1, "y": 1}}]);
    c.send_json(&part(1, 0, 2, create)).await;
    let started = std::time::Instant::now();
    let (mut sink, mut stream) = c.ws.split();
    let pinging = tokio::spawn(async move {
        // About 1,000 a second, far over the rate.
        loop {
            if sink.send(Message::Ping(Default::default())).await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    });
    let abandoned = async {
        while let Some(Ok(frame)) = stream.next().await {
            if let Message::Text(text) = frame {
                let msg: Value = serde_json::from_str(&text).unwrap();
                if msg["type"] == "error" && msg["code"] == "bad_batch" {
                    return msg;
                }
            }
        }
        panic!("closed before the change was abandoned");
    };
    let msg = tokio::time::timeout(std::time::Duration::from_secs(20), abandoned).await.expect("abandoned");
    pinging.abort();
    assert!(msg["message"].as_str().is_some_and(|m| m.contains("waited over")), "{msg}");
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(15), "within its 10 s, not 30: {took:?}");
    server.stop().await;
}

/// Joins `room` "busy" as `client`, from `address` (as the trusted proxy says).
async fn join_from(server: &TestServer, address: &str, client: &str) -> Client {
    let ws = crate::common::try_connect_with(&server.ws_url("busy"), &[("X-Forwarded-For", address)])
        .await
        .expect("connects");
    let mut c = Client::wrap(ws);
    c.send_json(&json!({"type": "hello", "version": sketchboard_core::protocol::PROTOCOL_VERSION, "client": client}))
        .await;
    let welcome = c.recv_type("welcome").await;
    c.gather_board(welcome).await;
    c
}

/// Pings and waits for the pong: the server has read everything sent before
/// it. Returns the one message heard meanwhile (an error), if any.
async fn heard_only_pong(c: &mut Client) -> Option<Value> {
    c.ws.send(Message::Ping(Default::default())).await.expect("ping");
    let mut heard = None;
    loop {
        let frame =
            tokio::time::timeout(PATIENCE, c.ws.next()).await.expect("an answer").expect("open").expect("a frame");
        match frame {
            Message::Pong(_) | Message::Close(_) => return heard,
            Message::Text(text) => {
                let msg: Value = serde_json::from_str(&text).unwrap();
                if msg["type"] == "error" {
                    assert!(heard.replace(msg).is_none(), "one error at most");
                }
            }
            _ => {}
        }
    }
}
