//! Real-time behaviour over real WebSockets: changes reach every member of the
//! room in the room's order, never another room; the author's copy is its
//! confirmation; late joiners get a snapshot; presence is counted.

use crate::common::{Client, TestServer};
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

    // Both members see the same four changes, with consecutive sequence numbers.
    let order = |events: &[serde_json::Value]| {
        events.iter().map(|e| (e["type"].clone(), e["seq"].clone(), e["change"].clone())).collect::<Vec<_>>()
    };
    assert_eq!(order(&alice_events), order(&bob_events), "both members see one order");
    for (i, e) in alice_events.iter().enumerate() {
        assert_eq!(e["type"], "applied", "{e}");
        assert_eq!(e["seq"], i as u64 + 1);
    }
    // Only the author's copy carries its op: that is its confirmation.
    let ops = |events: &[serde_json::Value]| events.iter().map(|e| e["op"].as_u64()).collect::<Vec<_>>();
    assert_eq!(ops(&alice_events), [Some(op1), Some(op2), None, None]);
    assert_eq!(ops(&bob_events), [None, None, Some(op3), Some(op4)]);
    assert!(alice_events.iter().all(|e| e.get("client").is_none()), "client ids are never broadcast");
    assert_eq!(
        alice_events[0]["change"],
        json!({"op": "create", "shape": {"id": "r1", "kind": "rectangle", "x": 100.0, "y": 100.0, "w": 160.0, "h": 100.0}})
    );

    // The other room heard nothing of it.
    carol.assert_nothing_pending("carol-probe").await;

    // A late joiner gets the board as it is now, and the latest sequence number.
    let (_dave, welcome) = Client::join(&server, "studio", "dave").await;
    assert_eq!(welcome["seq"], 4);
    assert_eq!(
        welcome["shapes"],
        json!([{"id": "c1", "kind": "circle", "x": 500.0, "y": 400.0, "w": 120.0, "h": 120.0}])
    );
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
    for (member, own) in [(&mut a, op_a), (&mut b, op_b)] {
        let mut ops = Vec::new();
        for _ in 0..2 {
            let e = member.recv_event().await;
            assert_eq!(e["type"], "applied", "{e}");
            ops.push(e["op"].as_u64());
        }
        ops.sort();
        assert_eq!(ops, [None, Some(own)], "one delete confirmed as ours, the other seen as someone else's");
    }
    let (_late, welcome) = Client::join(&server, "del", "late").await;
    assert_eq!(welcome["shapes"], json!([]));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_sent_again_after_a_reconnect_is_not_applied_twice() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut tab, welcome) = Client::join(&server, "resend", "tab-7").await;
    assert_eq!(welcome["last_op"], 0);
    let create = tab.create("s", "rectangle", 10.0, 10.0).await;
    let moved = tab.move_to("s", 200.0, 10.0).await;
    tab.recv_event().await;
    tab.recv_event().await;
    let (mut other, _) = Client::join(&server, "resend", "other").await;
    other.delete("s").await;
    other.recv_event().await;
    drop(tab);

    // The same tab comes back: the welcome says what the room already has.
    let (mut tab, welcome) = Client::join(&server, "resend", "tab-7").await;
    assert_eq!(welcome["last_op"], moved);
    assert_eq!(welcome["shapes"], json!([]));
    // A client that re-sends anyway is refused, and the deleted shape stays deleted.
    let again = json!({"type": "change", "op": create, "change": {"op": "create", "shape": {"id": "s", "kind": "rectangle", "x": 10.0, "y": 10.0, "w": 160.0, "h": 100.0}}});
    tab.send_json(&again).await;
    let e = tab.recv_event().await;
    assert_eq!(
        (e["type"].as_str(), e["code"].as_str(), e["op"].as_u64()),
        (Some("error"), Some("stale_op"), Some(create))
    );
    other.assert_nothing_pending("other-probe").await;
    server.stop().await;

    // The mark survives a restart.
    let server = TestServer::start(&dir).await;
    let (_, welcome) = Client::join(&server, "resend", "tab-7").await;
    assert_eq!(welcome["last_op"], moved);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_server_closes_sockets_with_1012() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut joined, _) = Client::join(&server, "bye", "a").await;
    let mut waiting = Client::wrap(Client::raw(&server, "bye").await);
    let stopping = tokio::spawn(server.stop());
    for client in [&mut joined, &mut waiting] {
        let frame = client.closed().await.expect("a close frame");
        assert_eq!(u16::from(frame.code), 1012, "{frame:?}");
    }
    stopping.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_goes_silent_is_closed_and_leaves_the_room() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| c.idle_timeout_secs = 1).await;
    let (mut witness, _) = Client::join(&server, "idle", "witness").await;
    // This one never reads again, so it never answers a ping: to the server it
    // looks like a peer whose network vanished without closing.
    let (_silent, _) = Client::join(&server, "idle", "silent").await;
    // The witness sees both in the room, then (answering pings while it waits)
    // sees the silent one go.
    for expected in [2, 1] {
        while witness.recv_type("presence").await["members"] != expected {}
    }
    witness.assert_nothing_pending("still-here").await;
    server.stop().await;
}

/// A member that stops reading while others send more than its socket holds:
/// the room, which was writing to that member's socket itself, hands what the
/// socket cannot take back to the member's own connection, which sends it
/// once the reader reads again: everything, in order, nobody closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_pauses_reading_gets_everything_in_order_when_it_reads_again() {
    const BATCHES: usize = 24;
    const MOVES: usize = 500;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut a, _) = Client::join(&server, "paused", "a").await;
    let (mut b, _) = Client::join(&server, "paused", "b").await;
    a.members_become(2).await;
    b.members_become(2).await;
    let made = a.create("s", "circle", 10.0, 10.0).await;
    a.confirmed(made).await;
    assert_eq!(b.recv_event().await["seq"], 1);

    let by_member = || async {
        let (_, _, metrics) = crate::common::http_get(server.addr, "/metrics").await;
        let count = metrics
            .lines()
            .find_map(|line| line.strip_prefix(r#"sketchboard_deliveries_total{by="member"} "#))
            .and_then(|n| n.trim().parse::<f64>().ok());
        count.unwrap_or(0.0)
    };
    let before = by_member().await;

    // b reads nothing now: about 20 KB a batch, far more than the sockets hold.
    for batch in 0..BATCHES {
        let moves: Vec<_> =
            (0..MOVES).map(|i| json!({"op": "move", "id": "s", "x": (i % 1000) as f64, "y": batch as f64})).collect();
        let op = a.change(json!({"op": "batch", "changes": moves})).await;
        a.confirmed(op).await;
    }
    let sent_by_member = by_member().await - before;
    assert!(sent_by_member >= 1.0, "b's socket filled up, so its connection sent some of it itself");

    for batch in 0..BATCHES {
        let seen = b.recv_event().await;
        assert_eq!(seen["type"], "applied", "{seen}");
        assert_eq!(seen["seq"], batch as u64 + 2, "in order: {seen}");
        let last = &seen["change"]["changes"][MOVES - 1];
        assert_eq!(last["y"].as_f64(), Some(batch as f64), "whole: {last}");
    }
    b.assert_nothing_pending("b-fresh").await;
    server.stop().await;
}
