//! Resuming after a drop: a client that says which board it holds gets only
//! the changes it missed, from memory or, after a restart, from the stored
//! log; one too far behind, or holding a board the room never had, gets a
//! whole snapshot instead.

mod common;

use common::{Client, TestServer};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_client_gets_only_what_it_missed() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, welcome) = Client::join(&server, "studio", "alice").await;
    let epoch = welcome["epoch"].as_u64().expect("an epoch");
    let (mut bob, _) = Client::join(&server, "studio", "bob").await;
    for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
        alice.create(id, "circle", 100.0 * i as f64, 0.0).await;
        alice.recv_type("applied").await;
    }
    drop(alice); // a dropped network: no close frame

    bob.move_to("a", 500.0, 500.0).await;
    let op = bob.delete("b").await;
    bob.confirmed(op).await;

    let (alice, answer) = Client::rejoin(&server, "studio", "alice", epoch, 3).await;
    assert_eq!(answer["type"], "catch_up", "{answer}");
    assert_eq!(answer["from"], 3);
    assert_eq!(answer["last_op"], 3);
    assert_eq!(
        answer["changes"],
        json!([{"op": "move", "id": "a", "x": 500.0, "y": 500.0}, {"op": "delete", "id": "b"}])
    );
    // The stream carries on from there: Alice's next change is number 6.
    let mut alice = alice.ops_after(3);
    alice.create("d", "triangle", 0.0, 600.0).await;
    let applied = alice.recv_type("applied").await;
    assert_eq!((applied["seq"].as_u64(), applied["op"].as_u64()), (Some(6), Some(4)));

    // A client that is up to date gets an empty catch-up.
    let (_bob2, answer) = Client::rejoin(&server, "studio", "bob", epoch, 6).await;
    assert_eq!((answer["type"].as_str(), answer["changes"].as_array().map(Vec::len)), (Some("catch_up"), Some(0)));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_when_it_is_shorter_or_the_board_is_not_ours() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, welcome) = Client::join(&server, "studio", "alice").await;
    let epoch = welcome["epoch"].as_u64().expect("an epoch");
    alice.create("a", "circle", 0.0, 0.0).await;
    for i in 0..100 {
        alice.move_to("a", f64::from(i), 0.0).await;
    }
    for _ in 0..101 {
        alice.recv_type("applied").await;
    }
    // 101 changes missed on a board of one shape: the snapshot is shorter.
    let (_c, answer) = Client::rejoin(&server, "studio", "carol", epoch, 0).await;
    assert_eq!(answer["type"], "welcome");
    assert_eq!(answer["seq"], 101);
    assert_eq!(answer["shapes"], json!([{"id": "a", "kind": "circle", "x": 99.0, "y": 0.0}]));
    // A few missed: caught up.
    let (_c, answer) = Client::rejoin(&server, "studio", "carol", epoch, 99).await;
    assert_eq!((answer["type"].as_str(), answer["changes"].as_array().map(Vec::len)), (Some("catch_up"), Some(2)));
    // A board from the future (the room was restored from an older backup, say).
    let (_c, answer) = Client::rejoin(&server, "studio", "carol", epoch, 500).await;
    assert_eq!((answer["type"].as_str(), answer["seq"].as_u64()), (Some("welcome"), Some(101)));
    // A board from another incarnation of a room of that name: a snapshot, even
    // where the sequence numbers would fit.
    let (_c, answer) = Client::rejoin(&server, "studio", "carol", epoch ^ 1, 99).await;
    assert_eq!((answer["type"].as_str(), answer["epoch"].as_u64()), (Some("welcome"), Some(epoch)));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_the_stored_log_catches_clients_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, welcome) = Client::join(&server, "studio", "alice").await;
    let epoch = welcome["epoch"].as_u64().expect("an epoch");
    // Past a snapshot (every 256 changes), so the catch-up reaches behind it.
    alice.create("a", "rectangle", 0.0, 0.0).await;
    for i in 1..300 {
        alice.move_to("a", f64::from(i % 1000), 0.0).await;
    }
    for _ in 0..300 {
        alice.recv_type("applied").await;
    }
    drop(alice);
    server.stop().await;

    let server = TestServer::start(&dir).await;
    let (_alice, answer) = Client::rejoin(&server, "studio", "alice", epoch, 250).await;
    assert_eq!(answer["type"], "catch_up", "{answer}");
    assert_eq!(answer["from"], 250);
    let changes = answer["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 50);
    for (i, change) in changes.iter().enumerate() {
        assert_eq!(*change, json!({"op": "move", "id": "a", "x": (250 + i) as f64, "y": 0.0}));
    }
    assert_eq!(answer["last_op"], 300);
    server.stop().await;
}

/// A member that stops reading while the room is busy: once its outbound
/// queue fills, the room drops it rather than skip a change for it. (Driven
/// at the room's own interface: over loopback the kernel's socket buffers
/// absorb hundreds of kilobytes before a queue could fill.) What it did get is
/// a gapless prefix of the stream, so its connection closes with 4000 and a
/// reconnect from the last change it saw brings it back in step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_is_dropped_not_skipped_and_then_resumes() {
    use std::sync::Arc;

    use sketchboard::model::{Change, ClientId, RoomName, Shape, ShapeId, ShapeKind};
    use sketchboard::protocol::Position;
    use sketchboard::server::connection::OUTBOUND_QUEUE;
    use sketchboard::server::registry::Registry;
    use sketchboard::server::room::{Room, RoomCmd};
    use sketchboard::server::storage::Store;
    use sketchboard::server::{Config, room::RoomStats};
    use tokio::sync::{mpsc, oneshot};

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("board.db").display());
    let config = Config::for_database("127.0.0.1:0".parse().unwrap(), url.clone());
    let store = Store::open(&url).unwrap();
    let registry = Registry::new(store.clone(), config.room_limits());
    let name = RoomName::parse("busy").unwrap();
    let (tx, rx) = mpsc::channel(64);
    let room = Room::new(name, 1, store, registry, Arc::new(RoomStats::default()), config.room_limits());
    tokio::spawn(room.run(rx));

    let join = |member: u64, client: &str, out| {
        let (reply, answer) = oneshot::channel();
        let client = ClientId::parse(client).unwrap();
        (RoomCmd::Join { member, client, at: None, out, reply }, answer)
    };
    let (slow_out, mut slow) = mpsc::channel(OUTBOUND_QUEUE);
    let (cmd, answer) = join(1, "slow", slow_out);
    tx.send(cmd).await.unwrap();
    answer.await.unwrap().unwrap();
    let (busy_out, mut busy) = mpsc::channel(OUTBOUND_QUEUE);
    let (cmd, answer) = join(2, "busy", busy_out);
    tx.send(cmd).await.unwrap();
    answer.await.unwrap().unwrap();

    let id = ShapeId::parse("s").unwrap();
    let shape = Shape { id: id.clone(), kind: ShapeKind::Circle, x: 0.0, y: 0.0 };
    let total = 2 * OUTBOUND_QUEUE as u64;
    for op in 1..=total {
        let change = if op == 1 {
            Change::Create { shape: shape.clone() }
        } else {
            Change::Move { id: id.clone(), x: (op % 1400) as f64, y: 0.0 }
        };
        tx.send(RoomCmd::Change { member: 2, op, change }).await.unwrap();
        // The busy member keeps up.
        while busy.try_recv().is_ok() {}
    }

    // The slow member's queue holds a gapless prefix, then is closed.
    let (mut seqs, mut epoch) = (Vec::new(), None);
    while let Some(text) = tokio::time::timeout(common::PATIENCE, slow.recv()).await.expect("closed in time") {
        let msg: serde_json::Value = serde_json::from_str(&text).unwrap();
        if msg["type"] == "applied" {
            seqs.push(msg["seq"].as_u64().unwrap());
        }
        if msg["type"] == "welcome" {
            epoch = msg["epoch"].as_u64();
        }
    }
    let seen = seqs.len() as u64;
    assert!(seen < total, "dropped before the end of the stream");
    assert_eq!(seqs, (1..=seen).collect::<Vec<_>>(), "what it got has no gaps");

    // Its reconnect, from the last change it saw, brings it back in step.
    let (again_out, mut again) = mpsc::channel(OUTBOUND_QUEUE);
    let (reply, answer) = oneshot::channel();
    let client = ClientId::parse("slow").unwrap();
    let at = Some(Position { epoch: epoch.expect("the welcome came first"), seq: seen });
    tx.send(RoomCmd::Join { member: 3, client, at, out: again_out, reply }).await.unwrap();
    answer.await.unwrap().unwrap();
    let first: serde_json::Value = serde_json::from_str(&again.recv().await.unwrap()).unwrap();
    let caught_up_to = match first["type"].as_str() {
        Some("catch_up") => first["from"].as_u64().unwrap() + first["changes"].as_array().unwrap().len() as u64,
        _ => first["seq"].as_u64().unwrap(),
    };
    assert_eq!(caught_up_to, total, "back in step: {first}");
}
