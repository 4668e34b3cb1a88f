//! The server's limits, each with its documented error or close code: members
//! per room, rooms loaded at once, shapes per room, and the per-connection
//! rate, which slows a flood down without dropping anything and leaves a drag
//! at 60 Hz alone. (Message size, silence and Origin: `hostile.rs`, `sockets.rs`.)

use std::time::{Duration, Instant};

use crate::common::{Client, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_room_turns_newcomers_away_until_someone_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| c.max_members = 2).await;
    let (alice, _) = Client::join(&server, "small", "alice").await;
    let (mut bob, _) = Client::join(&server, "small", "bob").await;

    let (mut carol, refusal) = Client::hello(&server, "small", "carol").await;
    assert_eq!((refusal["type"].as_str(), refusal["code"].as_str()), (Some("error"), Some("room_full")), "{refusal}");
    assert_eq!(carol.closed().await.map(|f| u16::from(f.code)), Some(4004));

    // Other rooms are not affected, and a place frees up when someone leaves.
    let (_dave, _) = Client::join(&server, "other", "dave").await;
    drop(alice);
    // Bob hears that alice left: then her place is free.
    bob.members_become(1).await;
    let (_carol, welcome) = Client::hello(&server, "small", "carol").await;
    assert_eq!(welcome["type"], "welcome", "alice's place was freed: {welcome}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_as_many_rooms_as_it_allows_is_busy_for_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| {
        c.max_rooms = 1;
        c.room_idle_secs = 0;
    })
    .await;
    let (alice, _) = Client::join(&server, "first", "alice").await;
    let (mut bob, refusal) = Client::hello(&server, "second", "bob").await;
    assert_eq!(refusal["code"], "server_busy", "{refusal}");
    assert_eq!(bob.closed().await.map(|f| u16::from(f.code)), Some(4005));
    // The loaded room still takes members.
    let (_carol, welcome) = Client::join(&server, "first", "carol").await;
    assert_eq!(welcome["type"], "welcome");
    // Once the first room empties and unloads, the second can open.
    drop(alice);
    drop(_carol);
    server.rooms_loaded(0).await;
    let (_bob, welcome) = Client::join(&server, "second", "bob").await;
    assert_eq!(welcome["type"], "welcome");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_slowed_down_and_nothing_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| {
        c.rate_per_sec = 50;
        c.rate_burst = 10;
    })
    .await;
    let (mut flood, _) = Client::join(&server, "studio", "flood").await;
    let started = Instant::now();
    flood.create("s", "circle", 0.0, 0.0).await;
    for i in 1..60 {
        flood.move_to("s", f64::from(i), 0.0).await;
    }
    let mut told = 0;
    let mut confirmed = Vec::new();
    while confirmed.len() < 60 {
        let msg = flood.recv_event().await;
        match msg["type"].as_str() {
            Some("applied") => confirmed.push(msg["op"].as_u64().expect("our own change")),
            Some("error") if msg["code"] == "rate_limited" => told += 1,
            _ => panic!("unexpected {msg}"),
        }
    }
    assert_eq!(confirmed, (1..=60).collect::<Vec<_>>(), "every change applied, in order");
    assert!(told >= 1, "told that it is being slowed down");
    // 60 messages with 10 at once and 50 a second: no sooner than 1 s.
    assert!(started.elapsed() >= Duration::from_millis(950), "the limit held: {:?}", started.elapsed());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drag_at_60_hz_is_never_slowed() {
    let dir = tempfile::tempdir().unwrap();
    // The default rate, and little burst to hide behind (enough for a server
    // that stalls 50 ms on a busy CI machine).
    let server = TestServer::start_with(&dir, |c| c.rate_burst = 10).await;
    let (mut dragger, _) = Client::join(&server, "studio", "dragger").await;
    dragger.create("s", "circle", 0.0, 0.0).await;
    let mut frame = tokio::time::interval(Duration::from_micros(16_667));
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for i in 1..=60 {
        frame.tick().await;
        dragger.move_to("s", f64::from(i), 0.0).await;
    }
    for op in 1..=61 {
        let msg = dragger.recv_event().await;
        assert_eq!((msg["type"].as_str(), msg["op"].as_u64()), (Some("applied"), Some(op)), "{msg}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_board_refuses_one_more_shape_and_keeps_the_rest() {
    use sketchboard_core::model::MAX_SHAPES;

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| {
        c.rate_per_sec = 1_000_000;
        c.rate_burst = 1_000_000;
    })
    .await;
    let (mut filler, _) = Client::join(&server, "full", "filler").await;
    // In windows, so the filler's own queue of confirmations never overflows.
    for i in 0..MAX_SHAPES {
        let op = filler.create(&format!("s{i}"), "circle", (i % 1400) as f64, (i / 1400) as f64).await;
        if i % 500 == 499 {
            filler.confirmed(op).await;
        }
    }
    let op = filler.create("one-more", "rectangle", 0.0, 0.0).await;
    let refusal = filler.recv_event().await;
    assert_eq!((refusal["code"].as_str(), refusal["op"].as_u64()), (Some("too_many_shapes"), Some(op)), "{refusal}");
    let (_witness, welcome) = Client::join(&server, "full", "witness").await;
    let shapes = welcome["shapes"].as_array().expect("shapes");
    assert_eq!(shapes.len(), MAX_SHAPES);
    assert!(shapes.iter().all(|s| s["id"] != "one-more"));
    server.stop().await;
}

/// Opens `room` as a tab at `address` (through the trusted proxy); returns
/// the client and the server's answer to hello.
async fn open_from(server: &TestServer, room: &str, client: &str, address: &str) -> (Client, serde_json::Value) {
    let ws = crate::common::try_connect_with(&server.ws_url(room), &[("X-Forwarded-For", address)]).await.unwrap();
    let mut c = Client::wrap(ws);
    let hello =
        serde_json::json!({"type": "hello", "version": sketchboard_core::protocol::PROTOCOL_VERSION, "client": client});
    c.send_json(&hello).await;
    let answer = c.recv_event().await;
    let answer = c.gather_board(answer).await;
    (c, answer)
}

/// Every slot held by empty rooms from a few addresses (a flood: 4 × 5 rooms,
/// nobody drawing) does not keep an honest newcomer out: a room nobody changed,
/// from the address holding the most, gives way and its members are closed.
/// A room that holds work never gives way, and a flooder cannot push out
/// another flooder's room to add one of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_nobody_changed_give_way_to_a_newcomer_when_every_slot_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| {
        c.max_rooms = 21;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    // One room holds work, from an address of its own.
    let (mut worker, _) = open_from(&server, "work", "worker", "192.0.2.200").await;
    let op = worker.create("a", "circle", 10.0, 10.0).await;
    worker.confirmed(op).await;
    let mut flood = Vec::new();
    for address in 1..=4 {
        for room in 0..5 {
            let (c, answer) = open_from(
                &server,
                &format!("empty-{address}-{room}"),
                &format!("f{address}-{room}"),
                &format!("203.0.113.{address}"),
            )
            .await;
            assert_eq!(answer["type"], "welcome", "{answer}");
            flood.push(c);
        }
    }
    server.rooms_loaded(21).await;
    // A flooder may not push out another's empty room to add its own.
    let (_, refusal) = open_from(&server, "empty-1-5", "f1-5", "203.0.113.1").await;
    assert_eq!(refusal["code"], "server_busy", "{refusal}");
    // An honest newcomer gets a place.
    let (_honest, welcome) = open_from(&server, "honest", "honest", "198.51.100.9").await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    // One flooded room gave way: its member was closed; the room with work was not.
    let mut closed = 0;
    for c in &mut flood {
        if tokio::time::timeout(Duration::from_millis(200), c.closed()).await.is_ok() {
            closed += 1;
        }
    }
    assert_eq!(closed, 1, "exactly one empty room gave way");
    worker.assert_nothing_pending("still-here").await;
    server.stop().await;
}
