//! Recording: what a room accepted survives a restart, an unloaded room comes
//! back from storage, and snapshots plus the log rebuild the same board.

use crate::common::{Client, TestServer, http_get};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_serves_the_same_board() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut a, _) = Client::join(&server, "keep", "a").await;
    a.create("r", "rectangle", 10.0, 20.0).await;
    a.create("t", "triangle", 400.0, 300.0).await;
    a.move_to("r", 700.0, 500.0).await;
    a.create("c", "circle", 50.0, 50.0).await;
    a.delete("c").await;
    let mut last = Value::Null;
    for _ in 0..5 {
        last = a.recv_event().await;
    }
    assert_eq!(last["seq"], 5, "all five confirmed");
    let (_, before) = Client::join(&server, "keep", "witness").await;
    server.stop().await;

    let server = TestServer::start(&dir).await;
    let (_, after) = Client::join(&server, "keep", "b").await;
    assert_eq!(after["seq"], 5);
    assert_eq!(after["shapes"], before["shapes"]);
    assert_eq!(
        after["shapes"],
        json!([
            {"id": "r", "kind": "rectangle", "x": 700.0, "y": 500.0, "w": 160.0, "h": 100.0},
            {"id": "t", "kind": "triangle", "x": 400.0, "y": 300.0, "w": 140.0, "h": 120.0},
        ])
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_histories_reload_through_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut a, _) = Client::join(&server, "long", "a").await;
    // Well past several snapshot intervals, ending between two of them.
    let moves = 3 * sketchboard::server::testing::SNAPSHOT_EVERY + 37;
    for i in 0..10 {
        a.create(&format!("s{i}"), "circle", 0.0, 0.0).await;
    }
    for i in 0..moves {
        let shape = format!("s{}", i % 10);
        a.move_to(&shape, (i % 1400) as f64, (i % 800) as f64).await;
    }
    let total = 10 + moves;
    let mut last = Value::Null;
    for _ in 0..total {
        last = a.recv_event().await;
    }
    assert_eq!(last["seq"], total);
    let (_, live) = Client::join(&server, "long", "live").await;
    server.stop().await;

    let server = TestServer::start(&dir).await;
    let (_, reloaded) = Client::join(&server, "long", "b").await;
    assert_eq!(reloaded["seq"], total);
    assert_eq!(reloaded["shapes"], live["shapes"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_room_unloads_and_comes_back_from_storage() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| c.room_idle_secs = 0).await;
    let (mut a, _) = Client::join(&server, "nap", "a").await;
    a.create("s", "rectangle", 5.0, 5.0).await;
    a.recv_event().await;
    drop(a);
    server.rooms_loaded(0).await;
    let (_, welcome) = Client::join(&server, "nap", "b").await;
    assert_eq!(welcome["seq"], 1);
    assert_eq!(welcome["shapes"][0]["id"], "s");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lobby_lists_recorded_rooms() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut a, _) = Client::join(&server, "lobby-check", "a").await;
    a.create("one", "rectangle", 5.0, 5.0).await;
    a.create("two", "circle", 300.0, 5.0).await;
    a.recv_event().await;
    a.recv_event().await;
    let (status, _, body) = http_get(server.addr, "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("lobby-check"), "the lobby's server-rendered HTML names the room");
    assert!(body.contains("2 shapes"), "and counts its shapes");
    assert!(body.contains("1 person here"), "and the people in it");
    // The same list as JSON, which the page refreshes itself from.
    let (status, _, body) = http_get(server.addr, "/api/lobby").await;
    assert_eq!(status, 200);
    let rooms: serde_json::Value = serde_json::from_str(&body).unwrap();
    let line = rooms.as_array().unwrap().iter().find(|r| r["name"] == "lobby-check").unwrap();
    assert_eq!((line["shapes"].as_u64(), line["members"].as_u64()), (Some(2), Some(1)), "{line}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_cannot_be_recorded_is_never_shown_and_everyone_resyncs() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut author, _) = Client::join(&server, "jam", "author").await;
    let (mut watcher, _) = Client::join(&server, "jam", "watcher").await;
    let kept = author.create("kept", "circle", 10.0, 10.0).await;
    author.recv_event().await;
    watcher.recv_event().await;

    // Another program holds SQLite's write lock for longer than the server
    // waits for it (5 s), so recording the next change fails for real.
    let path = server.db_url.trim_start_matches("sqlite://").to_owned();
    let locker = rusqlite::Connection::open(&path).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    author.create("lost", "rectangle", 300.0, 10.0).await;

    // Nobody is shown the unrecorded change: both are closed for a resync,
    // and nothing before the close mentions it.
    for member in [&mut author, &mut watcher] {
        loop {
            match member.next_frame().await {
                Message::Close(frame) => {
                    assert_eq!(frame.map(|f| u16::from(f.code)), Some(4000));
                    break;
                }
                Message::Text(text) => assert!(!text.contains("lost"), "shown before it was recorded: {text}"),
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }
    locker.execute_batch("ROLLBACK").unwrap();

    // Back in: the board and the author's mark show exactly what was recorded,
    // so the author knows to send the lost change again.
    let (_, welcome) = Client::join(&server, "jam", "author").await;
    assert_eq!(welcome["last_op"], kept);
    assert_eq!(
        welcome["shapes"],
        json!([{"id": "kept", "kind": "circle", "x": 10.0, "y": 10.0, "w": 120.0, "h": 120.0}])
    );
    server.stop().await;
}

/// A room whose storage was deleted and which was then made anew under the
/// same name is another room: a client holding the old one's board gets a
/// snapshot, even where its sequence number fits the new history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_made_anew_is_not_mistaken_for_the_old_one() {
    let old_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&old_dir).await;
    let (mut alice, _) = Client::join(&server, "studio", "alice").await;
    for i in 0..3 {
        let op = alice.create(&format!("old{i}"), "circle", 0.0, 0.0 + f64::from(i) * 130.0).await;
        alice.confirmed(op).await;
    }
    let (_bob, old) = Client::join(&server, "studio", "bob").await;
    server.stop().await;

    let new_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&new_dir).await;
    let (mut carol, _) = Client::join(&server, "studio", "carol").await;
    for i in 0..5 {
        let op = carol.create(&format!("new{i}"), "triangle", 200.0, f64::from(i) * 130.0).await;
        carol.confirmed(op).await;
    }
    let old_epoch = old["epoch"].as_u64().expect("an epoch");
    let (_bob, answer) = Client::rejoin(&server, "studio", "bob", old_epoch, 3).await;
    assert_eq!(answer["type"], "welcome", "{answer}");
    assert_ne!(answer["epoch"].as_u64(), Some(old_epoch));
    assert_eq!(answer["shapes"].as_array().map(Vec::len), Some(5));
    server.stop().await;
}
