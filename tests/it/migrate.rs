//! `--copy-to-redis`: a room recorded by one node on SQLite, copied into a
//! real `redis-server`, then served by two nodes on Redis (each with a fresh
//! SQLite file of its own, so what they serve can only come from Redis): the
//! same board, seq and epoch, the clients' op marks (a re-sent change is not
//! applied twice), history, the view-only link, and the lobby. Copying again
//! checks and copies nothing.

use serde_json::{Value, json};

use crate::common::postgres::PgServer;
use crate::common::redis::RedisServer;
use crate::common::{Client, TestServer, get_json, http_get, try_connect_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_nodes_rooms_move_to_redis_whole() {
    move_whole(false).await;
}

/// The same with `--history-url`: the copy keeps each room's hot tail in
/// Redis and the rest in a real PostgreSQL, and the nodes read it back whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_nodes_rooms_move_to_redis_and_postgres_whole() {
    move_whole(true).await;
}

async fn move_whole(archived: bool) {
    let (dir, rd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let single = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&single, "moving", "alice").await;
    alice.create("x", "circle", 10.0, 10.0).await;
    alice.create("y", "rectangle", 400.0, 300.0).await;
    // Past a snapshot, so the copy carries a keyframe and a log behind it.
    let mut last = 0;
    for i in 0..300 {
        last = alice.move_to("x", f64::from(i % 200), 10.0).await;
    }
    let done = alice.confirmed(last).await;
    let head = done["seq"].as_u64().unwrap();
    let (_, link) = crate::common::put_json(single.addr, "/api/rooms/moving/view-link").await;
    let token = link["path"].as_str().unwrap().trim_start_matches("/v/").to_owned();
    let (_, head_private, _) = http_get(single.addr, "/new?private=1").await;
    let private = head_private
        .lines()
        .find_map(|l| l.strip_prefix("location: /r/").or_else(|| l.strip_prefix("Location: /r/")))
        .expect("a private room")
        .trim()
        .to_owned();
    let (mut bob, _) = Client::join(&single, &private, "bob").await;
    let op = bob.create("p", "triangle", 50.0, 50.0).await;
    bob.confirmed(op).await;
    let (_, before) = Client::join(&single, "moving", "witness").await;
    let (_, history_before) = get_json(single.addr, "/api/rooms/moving/changes?limit=1000").await;
    drop((alice, bob));
    single.stop().await;

    let redis = RedisServer::start(rd.path());
    let mut config = sketchboard::server::Config::for_database(
        "127.0.0.1:0".parse().unwrap(),
        format!("sqlite://{}", dir.path().join("board.db").display()),
    );
    config.redis_url = Some(redis.url.clone());
    let pg = archived.then(|| PgServer::start(rd.path()));
    config.history_url = pg.as_ref().map(|pg| pg.url.clone());
    config.hot_tail = 16;
    let copied = sketchboard::server::copy_to_redis(&config).await.expect("the copy succeeds and checks out");
    assert_eq!((copied.rooms, copied.already), (2, 0), "{copied:?}");
    assert_eq!(copied.changes, head + 1, "every change of both rooms");
    let again = sketchboard::server::copy_to_redis(&config).await.expect("copying again is safe");
    assert_eq!((again.rooms, again.changes, again.already), (0, 0, 2), "and copies nothing twice");

    if let Some(pg) = &pg {
        // Redis keeps the tail (and what its stream's last node shares); PostgreSQL the rest.
        let kept: u64 = redis.cli(&["XLEN", "sb:{moving}:log"]).parse().unwrap();
        assert!(kept < head / 2, "{kept} of {head} changes left in Redis");
        let segments = pg.psql("SELECT count(*) FROM sb_segments WHERE room = 'moving'");
        assert_ne!(segments, "0", "the copy archived the room");
    }
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let history = config.history_url.clone();
    let on = |dir| {
        let (redis_url, history) = (redis.url.clone(), history.clone());
        TestServer::start_with(dir, move |c| {
            c.redis_url = Some(redis_url);
            c.history_url = history;
            c.hot_tail = 16;
        })
    };
    let (a, b) = (on(&da).await, on(&db).await);
    let (_, after) = Client::join(&b, "moving", "late").await;
    assert_eq!((&after["seq"], &after["epoch"]), (&before["seq"], &before["epoch"]), "the same place in the same room");
    assert_eq!(after["shapes"], before["shapes"], "the same board");

    // Alice comes back with what she had: her last change is known, so re-sending it changes nothing.
    let epoch = before["epoch"].as_u64().unwrap();
    let (alice, caught_up) = Client::rejoin(&a, "moving", "alice", epoch, head).await;
    assert_eq!(caught_up["type"], "catch_up", "{caught_up}");
    let mut alice = alice.ops_after(last - 1);
    let resent = alice.move_to("x", 0.0, 0.0).await;
    let refused = alice.recv_event().await;
    assert_eq!((&refused["code"], &refused["op"]), (&json!("stale_op"), &json!(resent)));
    let op = alice.move_to("y", 10.0, 10.0).await;
    assert_eq!(alice.confirmed(op).await["seq"], json!(head + 1), "and a new one follows the copied log");

    // History, the view-only link, and the lobby came along.
    let (_, history_after) = get_json(b.addr, "/api/rooms/moving/changes?limit=1000").await;
    let firsts = |h: &Value| h["changes"].as_array().map(|c| c[..c.len().min(head as usize)].to_vec());
    assert_eq!(firsts(&history_after), firsts(&history_before), "the log with its times");
    let (status, version) = get_json(a.addr, "/api/rooms/moving/versions/2").await;
    assert_eq!((status, version["shapes"].as_array().map(Vec::len)), (200, Some(2)));
    let ws = try_connect_with(&format!("ws://{}/ws/v/{token}", a.addr), &[]).await;
    assert!(ws.is_ok(), "the view-only link opens the room on the nodes");
    let (_, _, lobby) = http_get(b.addr, "/").await;
    assert!(lobby.contains("moving") && !lobby.contains(&private), "listed as before; the private room is not");
    let (_, in_private) = Client::join(&b, &private, "carol").await;
    assert_eq!(in_private["shapes"].as_array().map(Vec::len), Some(1));
}
