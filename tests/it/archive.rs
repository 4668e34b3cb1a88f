//! History in PostgreSQL (`--history-url`): a room's log keeps its hot tail in
//! Redis and the rest in a real PostgreSQL, archived in segments with its
//! keyframes and then trimmed from Redis; every read (the room as loaded, the
//! log, history pages, any version) answers exactly what a store that never
//! archived answers; an expired room's archive goes with it; and a node
//! configured so serves a room's history across a restart.

use std::time::Duration;

use serde_json::json;
use sketchboard::server::testing::{Append, Claim, Node, Snapshot, now_ms, redis_store_archived, sqlite_store};
use sketchboard_core::model::{Board, ClientId, RoomName};

use crate::common::postgres::PgServer;
use crate::common::redis::RedisServer;
use crate::common::{Client, TestServer, eventually, get_json, whole_log};
use crate::redis_log::{create, moved, one};

const CHANGES: u64 = 600;
const HOT_TAIL: u64 = 8;

/// The archived store and one that never archives, given the same appends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rooms_history_moves_to_postgres_and_reads_back_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (redis, pg) = (RedisServer::start(dir.path()), PgServer::start(dir.path()));
    let node = Node { name: "a".into(), address: "http://a.invalid".into() };
    let store = redis_store_archived(&redis.url, node, Duration::from_secs(30), &pg.url, HOT_TAIL).await.unwrap();
    let reference = sqlite_store(&format!("sqlite://{}", dir.path().join("ref.db").display())).unwrap();
    let room = RoomName::parse("archived").unwrap();
    let Claim::Mine { epoch: lease, .. } = store.claim(&room, None).await.unwrap() else { panic!("the room is free") };

    let mut board = Board::new();
    for seq in 1..=CHANGES {
        let change =
            if seq <= 5 { create(&format!("s{seq}"), 1.0) } else { moved(&format!("s{}", seq % 5 + 1), seq as f64) };
        board.apply(&change).unwrap();
        let mut append = one(seq, "t", seq, change);
        if seq % 100 == 0 {
            let marks = vec![(ClientId::parse("t").unwrap(), seq)];
            append.snapshot = Some(Snapshot { board: serde_json::to_string(&board).unwrap(), marks });
        }
        reference.append(&room, append.clone()).await.unwrap();
        store.append(&room, Append { lease: Some(lease), ..append }).await.unwrap();
    }
    let meta = "sb:{archived}:meta";
    let archived = || async {
        let mark: u64 = redis.cli(&["HGET", meta, "archived"]).parse().unwrap_or(0);
        (mark >= CHANGES - 2 * HOT_TAIL).then_some(mark)
    };
    let mark = eventually("the log is archived up to its hot tail", Duration::from_millis(50), archived).await;
    let in_redis: u64 = redis.cli(&["XLEN", "sb:{archived}:log"]).parse().unwrap();
    assert!(in_redis < 150, "{in_redis} of {CHANGES} changes left in Redis (archived to {mark})");
    // Six keyframes (every 100 changes): the latest snapshot as of the last
    // archiving stays in Redis (loading reads it there), and any newer one.
    let frames: u64 = redis.cli(&["HLEN", "sb:{archived}:frames"]).parse().unwrap();
    let segments: u64 = pg.psql("SELECT count(*) FROM sb_segments WHERE room = 'archived'").parse().unwrap();
    let keyframes: u64 = pg.psql("SELECT count(*) FROM sb_keyframes WHERE room = 'archived'").parse().unwrap();
    assert!(frames <= 2 && frames + keyframes == 6, "{frames} keyframes in Redis, {keyframes} in PostgreSQL");
    assert!(segments >= 3, "{segments} segments in PostgreSQL");

    // Every read answers as the store that never archived.
    let (ours, theirs) = (whole_log(&store, &room).await, whole_log(&reference, &room).await);
    let strip = |log: Vec<sketchboard::server::testing::LogEntry>| -> Vec<_> {
        log.into_iter().map(|e| (e.seq, e.client, e.op, serde_json::to_value(&e.change).unwrap())).collect()
    };
    assert_eq!(strip(ours), strip(theirs), "the whole log");
    let (loaded, expected) = (store.load_room(&room).await.unwrap(), reference.load_room(&room).await.unwrap());
    assert_eq!((loaded.seq, &loaded.board, &loaded.last_ops), (expected.seq, &expected.board, &expected.last_ops));
    assert_eq!(loaded.board, board);
    for after in [0, 99, 100, 555, CHANGES - 3] {
        let page = |l: Vec<sketchboard::server::testing::Logged>| -> Vec<_> {
            l.into_iter().map(|e| (e.seq, serde_json::to_value(&e.change).unwrap())).collect()
        };
        let (a, b) =
            (store.changes(&room, after, 50).await.unwrap(), reference.changes(&room, after, 50).await.unwrap());
        assert_eq!(page(a), page(b), "the page after {after}");
    }
    for seq in [1, 5, 99, 100, 101, 250, mark, mark + 1, CHANGES] {
        let (a, b) = (store.version(&room, seq).await.unwrap(), reference.version(&room, seq).await.unwrap());
        assert_eq!(a.map(|v| v.board), b.map(|v| v.board), "version {seq}");
    }

    // An expired room's archive goes with it.
    assert_eq!(store.expire(now_ms() + 60_000, Vec::new()).await.unwrap(), 1);
    assert_eq!(pg.psql("SELECT count(*) FROM sb_segments WHERE room = 'archived'"), "0");
    assert_eq!(pg.psql("SELECT count(*) FROM sb_keyframes WHERE room = 'archived'"), "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_serves_a_rooms_archived_history_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (redis, pg) = (RedisServer::start(dir.path()), PgServer::start(dir.path()));
    let configure = |c: &mut sketchboard::server::Config| {
        c.redis_url = Some(redis.url.clone());
        c.history_url = Some(pg.url.clone());
        c.hot_tail = 4;
    };
    let node = TestServer::start_with(&dir, configure).await;
    let (mut alice, _) = Client::join(&node, "kept", "alice").await;
    let op = alice.create("a", "circle", 10.0, 10.0).await;
    alice.confirmed(op).await;
    for i in 1..40 {
        let op = alice.move_to("a", f64::from(i), 10.0).await;
        alice.confirmed(op).await;
    }
    let archived = || async {
        (redis.cli(&["HGET", "sb:{kept}:meta", "archived"]).parse::<u64>().unwrap_or(0) >= 30).then_some(())
    };
    eventually("the node archives the room", Duration::from_millis(50), archived).await;
    drop(alice);
    node.stop().await;

    let node = TestServer::start_with(&dir, configure).await;
    let (_, welcome) = Client::join(&node, "kept", "bob").await;
    assert_eq!((welcome["seq"].clone(), welcome["shapes"][0]["x"].clone()), (json!(40), json!(39.0)));
    let (status, page) = get_json(node.addr, "/api/rooms/kept/changes?after=0&limit=100").await;
    assert_eq!(status, 200, "{page}");
    let seqs: Vec<u64> = page["changes"].as_array().unwrap().iter().map(|c| c["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>(), "every change, archived or not");
    let (status, version) = get_json(node.addr, "/api/rooms/kept/versions/3").await;
    assert_eq!(status, 200, "{version}");
    assert_eq!(version["shapes"][0]["x"], json!(2.0), "the board after change 3: {version}");
}
