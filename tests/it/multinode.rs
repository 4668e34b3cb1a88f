//! Several nodes on one Redis (`--redis-url`): two real servers, each with
//! its own SQLite file, share a real `redis-server`. Members of one room
//! split across the nodes see the same changes in the same order, a late
//! joiner on either node gets the same board, changes racing from both nodes
//! all land exactly once in one gapless order, a node that restarts loads
//! the room from the log, and the lobby lists the same rooms and people on
//! every node.

use serde_json::{Value, json};

use crate::common::redis::{RedisServer, node};
use crate::common::{Client, TestServer};

/// The next `n` changes a member receives: (seq, change).
async fn changes(c: &mut Client, n: usize) -> Vec<(u64, Value)> {
    let mut out = Vec::new();
    while out.len() < n {
        let msg = c.recv_event().await;
        if msg["type"] == "applied" {
            out.push((msg["seq"].as_u64().unwrap(), msg["change"].clone()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_on_two_nodes_see_one_order() {
    let (rd, da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let redis = RedisServer::start(rd.path());
    let (a, b) = (node(&da, &redis).await, node(&db, &redis).await);

    let (mut alice, _) = Client::join(&a, "shared", "alice").await;
    let (mut bob, _) = Client::join(&b, "shared", "bob").await;
    let op = alice.create("x", "circle", 10.0, 10.0).await;
    alice.confirmed(op).await;
    let seen = changes(&mut bob, 1).await;
    assert_eq!(seen[0].0, 1, "bob, on the other node, gets alice's change: {seen:?}");
    let op = bob.create("y", "rectangle", 400.0, 300.0).await;
    assert_eq!(bob.confirmed(op).await["seq"], 2);
    assert_eq!(changes(&mut alice, 1).await[0].0, 2);

    // Both send at once: every change lands once, and both see one order.
    let (mut ops_a, mut ops_b) = (Vec::new(), Vec::new());
    for i in 0..40 {
        ops_a.push(alice.move_to("x", f64::from(i), 10.0).await);
        ops_b.push(bob.move_to("y", 400.0 + f64::from(i), 300.0).await);
    }
    let (seen_a, seen_b) = tokio::join!(changes(&mut alice, 80), changes(&mut bob, 80));
    let seqs: Vec<u64> = seen_a.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (3..=82).collect::<Vec<_>>(), "one gapless order");
    assert_eq!(seen_a, seen_b, "the same changes in the same order on both nodes");
    let moves_of = |id: &str| seen_a.iter().filter(|(_, c)| c["id"] == id).count();
    assert_eq!((moves_of("x"), moves_of("y")), (40, 40), "each change exactly once");

    // Late joiners on either node get the same board.
    let (_, on_a) = Client::join(&a, "shared", "carol").await;
    let (_, on_b) = Client::join(&b, "shared", "dave").await;
    assert_eq!((on_a["seq"].clone(), on_b["seq"].clone()), (json!(82), json!(82)));
    assert_eq!(on_a["shapes"], on_b["shapes"]);
    assert_eq!(on_a["shapes"][0]["x"], json!(39.0));

    // A node that restarts loads the room from the log, not from its own file.
    drop(alice);
    a.stop().await;
    let a = node(&da, &redis).await;
    let (_, again) = Client::join(&a, "shared", "erin").await;
    assert_eq!((again["seq"].clone(), again["shapes"].clone()), (json!(82), on_b["shapes"].clone()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_nothing_is_acknowledged_and_the_nodes_recover() {
    let (rd, da) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut redis = RedisServer::start(rd.path());
    let a = node(&da, &redis).await;
    let (mut alice, _) = Client::join(&a, "outage", "alice").await;
    let op = alice.create("x", "circle", 10.0, 10.0).await;
    alice.confirmed(op).await;
    assert_eq!(crate::common::http_get(a.addr, "/healthz").await.0, 200);

    redis.kill();
    let (status, _, body) = crate::common::http_get(a.addr, "/healthz").await;
    assert_eq!((status, body.as_str()), (503, "storage unavailable"), "the health check says so");
    // A change now cannot be recorded: it is never confirmed, and the connection closes for a resync.
    alice.move_to("x", 500.0, 500.0).await;
    loop {
        let msg = alice.next_frame().await;
        if let tokio_tungstenite::tungstenite::Message::Close(frame) = msg {
            let code = frame.map(|f| u16::from(f.code));
            assert!(matches!(code, Some(4000 | 4003)), "closed to resync, not left hanging: {code:?}");
            break;
        }
        let text = msg.into_text().unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(!(v["type"] == "applied" && v["seq"] == 2), "nothing is acknowledged that is not recorded: {v}");
    }

    // Redis comes back on the same files: the node serves again by itself, with what was recorded.
    redis.restart();
    crate::common::healthy(a.addr).await;
    let (mut again, welcome) = Client::join(&a, "outage", "alice-2").await;
    assert_eq!((welcome["seq"].clone(), welcome["shapes"][0]["x"].clone()), (json!(1), json!(10.0)));
    let op = again.move_to("x", 300.0, 300.0).await;
    assert_eq!(again.confirmed(op).await["seq"], 2, "and records again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_only_links_and_history_hold_on_every_node() {
    use crate::common::{get_json, try_connect_with};
    let (rd, da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let redis = RedisServer::start(rd.path());
    let (a, b) = (node(&da, &redis).await, node(&db, &redis).await);
    let (mut alice, _) = Client::join(&a, "both", "alice").await;
    alice.create("x", "circle", 10.0, 10.0).await;
    let op = alice.move_to("x", 200.0, 100.0).await;
    alice.confirmed(op).await;

    // A link made on one node opens the room read-only on the other.
    let (_, link) = crate::common::put_json(a.addr, "/api/rooms/both/view-link").await;
    let token = link["path"].as_str().unwrap().trim_start_matches("/v/").to_owned();
    let ws = try_connect_with(&format!("ws://{}/ws/v/{token}", b.addr), &[]).await.expect("the link opens on B");
    let mut eve = Client::wrap(ws);
    eve.send_json(&json!({"type": "hello", "version": sketchboard_core::protocol::PROTOCOL_VERSION, "client": "eve"}))
        .await;
    let welcome = eve.recv_type("welcome").await;
    let welcome = eve.gather_board(welcome).await;
    assert_eq!((welcome["room"].clone(), welcome["seq"].clone()), (json!("view-only"), json!(2)));
    let op = eve.move_to("x", 0.0, 0.0).await;
    let refused = eve.recv_event().await;
    assert_eq!((&refused["code"], &refused["op"]), (&json!("read_only"), &json!(op)));

    // History reads the same on both nodes.
    for path in ["/api/rooms/both/changes", "/api/rooms/both/versions/1", "/api/rooms/both"] {
        let (on_a, on_b) = (get_json(a.addr, path).await, get_json(b.addr, path).await);
        assert_eq!(on_a.0, 200, "{path}");
        assert_eq!(on_a.1["shapes"], on_b.1["shapes"], "{path}");
        assert_eq!(on_a.1["changes"], on_b.1["changes"], "{path}");
    }
    let (_, changes) = get_json(b.addr, &format!("/api/v/{token}/changes")).await;
    assert_eq!(changes["changes"].as_array().map(Vec::len), Some(2));

    // Replacing it on A closes the viewer on B, and the old link opens nothing anywhere.
    let (status, _, _) = crate::common::http_post(a.addr, "/api/rooms/both/view-link", "").await;
    assert_eq!(status, 200);
    let closed = eve.closed().await.expect("a close frame");
    assert_eq!(u16::from(closed.code), 4007);
    for node in [&a, &b] {
        assert_eq!(crate::common::http_get(node.addr, &format!("/api/v/{token}")).await.0, 404);
    }
}

/// The lobby's line for `room` on a node, as its page lists it: (shapes, people), if listed.
/// The list is an island, so its rooms are in the page as the island's props.
pub(crate) async fn lobby_line(node: &TestServer, room: &str) -> Option<(u64, u64)> {
    let (status, _, page) = crate::common::http_get(node.addr, "/").await;
    assert_eq!(status, 200);
    let page = page.replace("&quot;", "\"");
    let at = page.find(&format!("{{\"name\":\"{room}\","))?;
    let end = at + page[at..].find('}')? + 1;
    let line: Value = serde_json::from_str(&page[at..end]).ok()?;
    Some((line["shapes"].as_u64()?, line["members"].as_u64()?))
}

/// Waits until every node's lobby says `want` for `room`.
async fn lobbies_say(nodes: &[&TestServer], room: &str, want: Option<(u64, u64)>) {
    for node in nodes {
        let says = || async move { (lobby_line(node, room).await == want).then_some(()) };
        let what = format!("the lobby of {} says {want:?} for {room}", node.addr);
        crate::common::eventually(what, std::time::Duration::from_millis(100), says).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lobby_agrees_on_both_nodes() {
    let (rd, da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let redis = RedisServer::start(rd.path());
    let (a, b) = (node(&da, &redis).await, node(&db, &redis).await);

    // One room with a person on each node, one made on B, one private room made on A.
    let (mut alice, _) = Client::join(&a, "agree-both", "alice").await;
    let op = alice.create("x", "circle", 10.0, 10.0).await;
    alice.confirmed(op).await;
    let (bob, _) = Client::join(&b, "agree-both", "bob").await;
    let (mut carol, _) = Client::join(&b, "agree-b", "carol").await;
    for (i, id) in ["p", "q"].iter().enumerate() {
        let op = carol.create(id, "rectangle", 100.0 * i as f64, 50.0).await;
        carol.confirmed(op).await;
    }
    let (_, head, _) = crate::common::http_get(a.addr, "/new?private=1").await;
    let location = head.lines().find_map(|l| l.strip_prefix("location: ").or_else(|| l.strip_prefix("Location: ")));
    let private = location.and_then(|l| l.strip_prefix("/r/")).expect("to a room").trim().to_owned();
    let (mut dave, _) = Client::join(&a, &private, "dave").await;
    let op = dave.create("z", "circle", 10.0, 10.0).await;
    dave.confirmed(op).await;

    lobbies_say(&[&a, &b], "agree-both", Some((1, 2))).await;
    lobbies_say(&[&a, &b], "agree-b", Some((2, 1))).await;
    lobbies_say(&[&a, &b], &private, None).await;

    // People leave: the counts follow on both nodes, and stored rooms stay listed.
    drop((bob, carol));
    lobbies_say(&[&a, &b], "agree-both", Some((1, 1))).await;
    lobbies_say(&[&a, &b], "agree-b", Some((2, 0))).await;

    // A node that stops: its people leave the other's lobby.
    drop(alice);
    let (_erin, _) = Client::join(&b, "agree-both", "erin").await;
    lobbies_say(&[&a], "agree-both", Some((1, 1))).await;
    b.stop().await;
    lobbies_say(&[&a], "agree-both", Some((1, 0))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_on_both_nodes_hammering_the_same_shapes_converge() {
    let (rd, da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let redis = RedisServer::start(rd.path());
    let (a, b) = (node(&da, &redis).await, node(&db, &redis).await);
    let (mut seeder, _) = Client::join(&a, "contended", "seeder").await;
    for id in ["p", "q", "r"] {
        let op = seeder.create(id, "circle", 10.0, 10.0).await;
        seeder.confirmed(op).await;
    }
    // Three writers on each node, every one moving the same three shapes as fast as it can.
    const MOVES: u64 = 60;
    let mut writers = Vec::new();
    for i in 0..6 {
        let server = if i % 2 == 0 { &a } else { &b };
        let (c, _) = Client::join(server, "contended", &format!("w{i}")).await;
        writers.push(c);
    }
    let mut sent = Vec::new();
    for n in 0..MOVES {
        for (i, w) in writers.iter_mut().enumerate() {
            let id = ["p", "q", "r"][(n as usize + i) % 3];
            sent.push((i, w.move_to(id, (n * 7 + i as u64 * 50) as f64 % 1400.0, 100.0 + i as f64).await));
        }
    }
    // Every move is confirmed exactly once, whichever node lost the race to append it.
    let mut confirmed = std::collections::HashMap::new();
    for (i, w) in writers.iter_mut().enumerate() {
        while confirmed.keys().filter(|(who, _)| *who == i).count() < MOVES as usize {
            let msg = w.recv_event().await;
            assert_ne!(msg["type"], "error", "w{i}: a valid move was refused: {msg}");
            if let Some(op) = msg["op"].as_u64() {
                assert!(confirmed.insert((i, op), msg["seq"].as_u64().unwrap()).is_none(), "w{i}: op {op} twice");
            }
        }
    }
    let mut seqs: Vec<u64> = confirmed.values().copied().collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (4..4 + 6 * MOVES).collect::<Vec<_>>(), "one gapless order, each move once");
    // Late joiners on both nodes see the same board: the last move of each shape in the log's order.
    let (_, on_a) = Client::join(&a, "contended", "late-a").await;
    let (_, on_b) = Client::join(&b, "contended", "late-b").await;
    assert_eq!((&on_a["seq"], &on_a["shapes"]), (&on_b["seq"], &on_b["shapes"]));
    assert_eq!(on_a["seq"], json!(3 + 6 * MOVES));
}

/// A Redis failover to a replica that lacked a room's last change rewinds the
/// room's log (done here by hand: the change removed, the head and the mark
/// set back, as the promoted replica would hold them), and another node then
/// appends a different change at that seq. The node that had recorded the lost
/// change notices, gives the room a new epoch, counts it, and resyncs its
/// members: no tab keeps a board the log no longer replays to, or resumes past
/// the loss.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_that_lost_changes_is_noticed_and_its_tabs_resync() {
    let (rd, da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let redis = RedisServer::start(rd.path());
    let (a, b) = (node(&da, &redis).await, node(&db, &redis).await);
    let (mut alice, welcome) = Client::join(&a, "rewound", "alice").await;
    for (i, id) in ["s1", "s2", "s3"].into_iter().enumerate() {
        let op = alice.create(id, "circle", 100.0 * i as f64, 10.0).await;
        alice.confirmed(op).await;
    }

    redis.cli(&["XDEL", "sb:{rewound}:log", "3-0"]);
    // (A replica that never had entry 3 never moved the stream's last id past 2.)
    redis.cli(&["XSETID", "sb:{rewound}:log", "2-0"]);
    redis.cli(&["HSET", "sb:{rewound}:meta", "head", "2"]);
    redis.cli(&["HSET", "sb:{rewound}:ops", "alice", "2"]);
    let (mut bob, at_b) = Client::join(&b, "rewound", "bob").await;
    assert_eq!(at_b["seq"], 2, "the other node loads the rewound log");
    let op = bob.create("other", "rectangle", 500.0, 500.0).await;
    assert_eq!(bob.confirmed(op).await["seq"], 3);

    assert_eq!(alice.closed().await.map(|f| u16::from(f.code)), Some(4000), "alice is resynced");
    let (_, again) = Client::join(&a, "rewound", "alice").await;
    assert_ne!(again["epoch"], welcome["epoch"], "a new epoch: nobody resumes past the loss");
    let ids: Vec<&str> = again["shapes"].as_array().unwrap().iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!((again["seq"].clone(), ids), (json!(3), vec!["s1", "s2", "other"]), "what the log replays to");
    assert_eq!(crate::common::metric(a.addr, "sketchboard_log_rewinds_total").await, 1.0);
}
