//! Resuming after a drop: a client that says which board it holds gets only
//! the changes it missed, from memory or, after a restart, from the stored
//! log; one too far behind, or holding a board the room never had, gets a
//! whole snapshot instead.

use crate::common::{Client, TestServer};
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
    assert_eq!(answer["shapes"], json!([{"id": "a", "kind": "circle", "x": 99.0, "y": 0.0, "w": 120.0, "h": 120.0}]));
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
