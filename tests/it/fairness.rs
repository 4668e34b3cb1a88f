//! One address must not take what everyone shares, and others' bursts must
//! not knock an honest member off: the per-address limits, each hit and then
//! freed, and a room under legal bursts while people drag.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{Client, TestServer, is_presence, try_connect_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_has_only_so_many_connections_until_one_closes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| c.max_connections_per_address = 2).await;
    let (mut a, _) = Client::join(&server, "cap", "a").await;
    let (b, _) = Client::join(&server, "cap", "b").await;
    // (Past the count from a's own join, which says 1 too.)
    a.members_become(2).await;
    assert_eq!(try_connect_with(&server.ws_url("cap"), &[]).await.err(), Some(429), "a third from one address");
    drop(b);
    // Once a hears that b left, b's place is free.
    a.members_become(1).await;
    let (_c, welcome) = Client::join(&server, "cap", "c").await;
    assert_eq!(welcome["type"], "welcome");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_opens_only_so_many_rooms_a_minute() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| c.rooms_opened_per_minute = 2).await;
    let (_one, _) = Client::join(&server, "one", "a").await;
    let (_two, _) = Client::join(&server, "two", "b").await;
    let (mut three, refusal) = Client::hello(&server, "three", "c").await;
    assert_eq!(refusal["code"], "too_many_rooms", "{refusal}");
    assert_eq!(three.closed().await.map(|f| u16::from(f.code)), Some(4006));
    // A room already loaded costs nothing to join.
    let (_again, welcome) = Client::join(&server, "one", "d").await;
    assert_eq!(welcome["type"], "welcome");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_creates_only_so_many_rooms_an_hour() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| c.rooms_created_per_hour = 1).await;
    let (mut first, _) = Client::join(&server, "first", "a").await;
    let op = first.create("s", "circle", 10.0, 10.0).await;
    assert_eq!(first.confirmed(op).await["seq"], 1, "the first room is stored");
    let (mut second, _) = Client::join(&server, "second", "b").await;
    second.create("s", "circle", 10.0, 10.0).await;
    let refusal = second.recv_event().await;
    assert_eq!(refusal["code"], "too_many_rooms", "{refusal}");
    assert_eq!(refusal["op"], 1);
    // The room it has keeps working.
    let op = first.create("t", "circle", 200.0, 10.0).await;
    assert_eq!(first.confirmed(op).await["seq"], 2);
    server.stop().await;
}

/// Twenty connections each send a legal burst of 1,000 moves while five
/// people drag at 60 Hz: nobody who reads is dropped, and every drag move is
/// confirmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_from_others_never_knock_an_honest_member_off() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let mut draggers = Vec::new();
    for i in 0..5 {
        let (mut c, _) = Client::join(&server, "busy", &format!("drag{i}")).await;
        let op = c.create(&format!("d{i}"), "circle", 100.0 * i as f64, 0.0).await;
        c.confirmed(op).await;
        draggers.push(c);
    }
    let mut bursters = Vec::new();
    for i in 0..20 {
        let (mut c, _) = Client::join(&server, "busy", &format!("burst{i}")).await;
        let op = c.create(&format!("b{i}"), "rectangle", 10.0 * i as f64, 500.0).await;
        c.confirmed(op).await;
        bursters.push((i, c));
    }
    let bursting: Vec<_> = bursters
        .into_iter()
        .map(|(i, mut c)| {
            tokio::spawn(async move {
                for op in 2..1002u32 {
                    let change = json!({"op": "move", "id": format!("b{i}"), "x": f64::from(op % 1400), "y": 500.0});
                    let msg = json!({"type": "change", "op": op, "change": change}).to_string();
                    // A burster that does not read may itself be dropped: that is its business.
                    if c.ws.send(Message::text(msg)).await.is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    let dragging: Vec<_> = draggers
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            tokio::spawn(async move {
                // A page reads all the time, and moves at the display's rate.
                let mut tick = tokio::time::interval(Duration::from_millis(16));
                let (mut moves, mut last, mut confirmed) = (0u32, 0, false);
                while !confirmed {
                    tokio::select! {
                        _ = tick.tick(), if moves < 60 => {
                            moves += 1;
                            last = c.move_to(&format!("d{i}"), f64::from(moves * 10), 200.0).await;
                        }
                        msg = c.recv() => {
                            assert!(msg["type"] == "applied" || is_presence(&msg), "dragger {i} got {msg}");
                            confirmed = moves == 60 && msg["op"] == last;
                        }
                    }
                }
            })
        })
        .collect();
    for d in dragging {
        d.await.expect("a dragger was dropped or missed a confirmation");
    }
    for b in bursting {
        b.await.expect("a burster's task");
    }
    server.stop().await;
}
