//! Real-time behaviour over real WebSockets: changes reach every member of the
//! room in the room's order, never another room; the author's copy is its
//! confirmation; late joiners get a snapshot; presence is counted.

mod common;

use common::{Client, TestServer};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_every_member_in_order_and_no_other_room() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, welcome) = Client::join(&server, "studio", "alice").await;
    assert_eq!(welcome["seq"], 0);
    assert_eq!(welcome["shapes"], json!([]));
    let (mut bob, _) = Client::join(&server, "studio", "bob").await;
    let (mut carol, _) = Client::join(&server, "elsewhere", "carol").await;

    // Alice draws and moves; Bob, having seen that, adds his own and deletes hers.
    // (Bob waits for Alice's changes: across two connections only the room orders.)
    let op1 = alice.create("r1", "rectangle", 100.0, 100.0).await;
    let op2 = alice.move_to("r1", 300.0, 200.0).await;
    let mut bob_events = vec![bob.recv_event().await, bob.recv_event().await];
    let op3 = bob.create("c1", "circle", 500.0, 400.0).await;
    let op4 = bob.delete("r1").await;
    bob_events.push(bob.recv_event().await);
    bob_events.push(bob.recv_event().await);
    let mut alice_events = Vec::new();
    for _ in 0..4 {
        alice_events.push(alice.recv_event().await);
    }

    // Both members see the same four changes with consecutive sequence numbers.
    assert_eq!(alice_events, bob_events, "both members see one order");
    let events = &alice_events;
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["type"], "applied", "{e}");
        assert_eq!(e["seq"], i as u64 + 1);
    }
    // Each author's own changes come back in the order they were sent,
    // naming the author: that is the confirmation.
    let by = |who: &str| events.iter().filter(|e| e["client"] == who).map(|e| e["op"].as_u64()).collect::<Vec<_>>();
    assert_eq!(by("alice"), [Some(op1), Some(op2)]);
    assert_eq!(by("bob"), [Some(op3), Some(op4)]);
    assert_eq!(
        events[0]["change"],
        json!({"op": "create", "shape": {"id": "r1", "kind": "rectangle", "x": 100.0, "y": 100.0}})
    );

    // The other room heard nothing of it.
    carol.assert_nothing_pending("carol-probe").await;

    // A late joiner gets the board as it is now, and the latest sequence number.
    let (_dave, welcome) = Client::join(&server, "studio", "dave").await;
    assert_eq!(welcome["seq"], 4);
    assert_eq!(welcome["shapes"], json!([{"id": "c1", "kind": "circle", "x": 500.0, "y": 400.0}]));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_counts_people_in_the_room() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut a, welcome) = Client::join(&server, "p", "a").await;
    assert_eq!(welcome["members"], 1);
    let (b, welcome) = Client::join(&server, "p", "b").await;
    assert_eq!(welcome["members"], 2);
    // a hears about b: first its own join (1), then b's (2).
    let mut counts = Vec::new();
    while counts.last() != Some(&2) {
        counts.push(a.recv_type("presence").await["members"].as_u64().unwrap());
    }
    drop(b);
    assert_eq!(a.recv_type("presence").await["members"], 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moving_shape_streams_every_position() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut writer, _) = Client::join(&server, "drag", "w").await;
    let (mut reader, _) = Client::join(&server, "drag", "r").await;
    writer.create("s", "triangle", 0.0, 0.0).await;
    for i in 1..=120 {
        writer.move_to("s", f64::from(i) * 5.0, f64::from(i) * 3.0).await;
    }
    let created = reader.recv_event().await;
    assert_eq!(created["change"]["op"], "create");
    for i in 1..=120 {
        let e = reader.recv_event().await;
        assert_eq!(e["change"], json!({"op": "move", "id": "s", "x": f64::from(i) * 5.0, "y": f64::from(i) * 3.0}));
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut a, _) = Client::join(&server, "del", "a").await;
    let (mut b, _) = Client::join(&server, "del", "b").await;
    a.create("x", "circle", 10.0, 10.0).await;
    a.recv_event().await;
    b.recv_event().await;
    // Both delete it at once: both are accepted, the board ends empty.
    let op_a = a.delete("x").await;
    let op_b = b.delete("x").await;
    let mut confirmed = Vec::new();
    for _ in 0..2 {
        let e = a.recv_event().await;
        assert_eq!(e["type"], "applied", "{e}");
        confirmed.push((e["client"].as_str().unwrap().to_owned(), e["op"].as_u64().unwrap()));
    }
    confirmed.sort();
    assert_eq!(confirmed, [("a".to_owned(), op_a), ("b".to_owned(), op_b)]);
    let (_late, welcome) = Client::join(&server, "del", "late").await;
    assert_eq!(welcome["shapes"], json!([]));
    server.stop().await;
}
