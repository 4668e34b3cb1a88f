//! What the Redis engine does that SQLite has no counterpart for (the rest
//! of its behaviour is the contract, `store_contract.rs`): two nodes
//! appending at one head let exactly one through, a room loaded while another
//! node appends is one moment of the log, what Redis acknowledged survives
//! it being killed, a change its replica did not get is not acknowledged
//! (`--redis-replicas`), and each build's Functions live beside other builds'.

use sketchboard::server::testing::{
    Append, FUNCTIONS_VERSION, Record, StoreError, redis_store, redis_store_replicated,
};
use sketchboard_core::model::{Change, ClientId, RoomName, Shape, ShapeId, ShapeKind};

use crate::common::redis::RedisServer;
use crate::common::whole_log;

pub(crate) fn one(seq: u64, client: &str, op: u64, change: Change) -> Append {
    let record = Record { seq, client: ClientId::parse(client).unwrap(), op, change, by: None };
    Append { records: vec![record], epoch: 1, creator: (seq == 1).then(|| "192.0.2.1".into()), ..Default::default() }
}

pub(crate) fn create(id: &str, x: f64) -> Change {
    Change::Create { shape: Shape::new(ShapeId::parse(id).unwrap(), ShapeKind::Circle, x, 10.0) }
}

pub(crate) fn moved(id: &str, x: f64) -> Change {
    Change::Move { id: ShapeId::parse(id).unwrap(), x, y: 10.0 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_appenders_at_one_head_let_exactly_one_through() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path());
    let (one_node, two_node) = (redis_store(&redis.url).await.unwrap(), redis_store(&redis.url).await.unwrap());
    let room = RoomName::parse("race").unwrap();
    one_node.append(&room, one(1, "seed", 1, create("s", 10.0))).await.unwrap();
    let mut head = 1;
    for round in 1..=20u64 {
        let a = one(head + 1, "node-a", round, moved("s", round as f64));
        let b = one(head + 1, "node-b", round, moved("s", 500.0 + round as f64));
        let (ra, rb) = tokio::join!(one_node.append(&room, a.clone()), two_node.append(&room, b.clone()));
        assert_eq!(
            [&ra, &rb].iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: exactly one of {ra:?} and {rb:?}"
        );
        assert!(ra.as_ref().err().or(rb.as_ref().err()).is_some_and(|e| e.lost_race()), "the other lost the race");
        // The other reads the new head and tries again, as a room actor does.
        let (mut retry, store) = if ra.is_err() { (a, &one_node) } else { (b, &two_node) };
        retry.records[0].seq = head + 2;
        store.append(&room, retry).await.unwrap();
        head += 2;
    }
    let seqs: Vec<u64> = whole_log(&one_node, &room).await.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=41).collect::<Vec<_>>(), "one gapless order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_redis_acknowledged_survives_it_being_killed() {
    let dir = tempfile::tempdir().unwrap();
    let mut redis = RedisServer::start(dir.path());
    let room = RoomName::parse("durable").unwrap();
    {
        let store = redis_store(&redis.url).await.unwrap();
        store.append(&room, one(1, "c", 1, create("a", 0.0))).await.unwrap();
        for i in 2..=50u64 {
            store.append(&room, one(i, "c", i, moved("a", i as f64))).await.unwrap();
        }
    }
    redis.kill();
    redis.restart();
    let store = redis_store(&redis.url).await.unwrap();
    let loaded = store.load_room(&room).await.unwrap();
    assert_eq!((loaded.seq, loaded.epoch), (50, Some(1)), "every acknowledged append is back");
    assert_eq!(loaded.board.shapes().next().map(|s| s.x), Some(50.0));
}

/// With a replica required, an append is acknowledged only once the replica
/// has it: with the replica hung, it is refused (though the primary wrote it:
/// the retry meets it and reads it back), and once the replica wakes, appends
/// are acknowledged again. Without the requirement the same append would be
/// acknowledged with one machine holding it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_its_replica_did_not_get_is_not_acknowledged() {
    let (pd, rd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let primary = RedisServer::start(pd.path());
    let port = primary.port().to_string();
    let replica = RedisServer::start_with(rd.path(), &["--replicaof", "127.0.0.1", &port]);
    replica.wait_until_replicating();
    let store = redis_store_replicated(&primary.url, 1).await.unwrap();
    let room = RoomName::parse("two-machines").unwrap();
    store.append(&room, one(1, "c", 1, create("a", 0.0))).await.unwrap();

    replica.signal("-STOP");
    let refused = store.append(&room, one(2, "c", 2, moved("a", 2.0))).await;
    let error = refused.expect_err("not acknowledged while the replica cannot have it").to_string();
    assert!(error.contains("not replicated"), "{error}");
    assert_eq!(redis_store(&primary.url).await.unwrap().head(&room).await.unwrap().seq, 2, "written, not acknowledged");

    replica.signal("-CONT");
    let again = store.append(&room, one(2, "c", 2, moved("a", 2.0))).await.expect_err("its retry meets it");
    assert!(again.lost_race(), "{again}");
    store.append(&room, one(3, "c", 3, moved("a", 3.0))).await.unwrap();
    replica.wait_until_replicating();
    assert_eq!(replica.cli(&["HGET", "sb:{two-machines}:meta", "head"]), "3", "the replica has every change");
}

/// A failover to a replica that lacked a room's last change rewinds its log
/// (done here by hand, as such a replica holds it), and another node appends
/// in its place. An append that follows the lost change is refused as
/// `Rewound`, not written on top of a log it does not follow; one that
/// follows what the log holds goes in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_on_a_log_that_lost_its_change_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path());
    let store = redis_store(&redis.url).await.unwrap();
    let room = RoomName::parse("lost").unwrap();
    store.append(&room, one(1, "c", 1, create("a", 0.0))).await.unwrap();
    store.append(&room, one(2, "c", 2, moved("a", 2.0))).await.unwrap();
    store.append(&room, one(3, "c", 3, moved("a", 3.0))).await.unwrap();
    for undo in [&["XDEL", "sb:{lost}:log", "3-0"][..], &["XSETID", "sb:{lost}:log", "2-0"]] {
        redis.cli(undo);
    }
    redis.cli(&["HSET", "sb:{lost}:meta", "head", "2"]);
    redis.cli(&["HSET", "sb:{lost}:ops", "c", "2"]);
    store.append(&room, one(3, "other", 1, moved("a", 30.0))).await.unwrap();

    let on_top = Append { tip: Some((ClientId::parse("c").unwrap(), 3)), ..one(4, "c", 4, moved("a", 4.0)) };
    let refused = store.append(&room, on_top).await.expect_err("the log no longer holds change 3 of c");
    assert!(matches!(refused, StoreError::Rewound { head: 3 }), "{refused:?}");
    let following = Append { tip: Some((ClientId::parse("other").unwrap(), 1)), ..one(4, "c", 4, moved("a", 4.0)) };
    store.append(&room, following).await.unwrap();
    let ops: Vec<(String, u64)> =
        whole_log(&store, &room).await.iter().map(|e| (e.client.as_str().to_owned(), e.op)).collect();
    assert_eq!(ops, [("c", 1), ("c", 2), ("other", 1), ("c", 4)].map(|(c, op)| (c.to_owned(), op)));
}

/// A room loads while another node appends: what it loads is one moment of
/// the log, its client marks included. (Marks read after the head once held
/// ops beyond it; a room holding such a mark refused changes as stale, or
/// told a tab its unsent changes were in, though its board lacked them.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_loaded_while_another_node_appends_is_one_moment_of_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path());
    let (writer, reader) = (redis_store(&redis.url).await.unwrap(), redis_store(&redis.url).await.unwrap());
    let room = RoomName::parse("moment").unwrap();
    writer.append(&room, one(1, "c", 1, create("a", 1.0))).await.unwrap();
    const APPENDS: u64 = 3_000;
    let appending_to = room.clone();
    let appending = tokio::spawn(async move {
        for op in 2..=APPENDS {
            writer.append(&appending_to, one(op, "c", op, moved("a", (op % 1000) as f64))).await.unwrap();
        }
    });
    let client = ClientId::parse("c").unwrap();
    let mut loads = 0;
    while !appending.is_finished() {
        let loaded = reader.load_room(&room).await.unwrap();
        // The only client's op n is change n: its mark is the head loaded.
        assert_eq!(loaded.last_ops.get(&client), Some(&loaded.seq), "load {loads}: the mark matches the board");
        assert_eq!(loaded.board.shapes().next().map(|s| s.x), Some((loaded.seq % 1000) as f64), "load {loads}");
        loads += 1;
    }
    appending.await.unwrap();
    assert!(loads > 10, "the room was loaded {loads} times while the log grew");
}

/// A one-function library of version `v` whose `sb_append` answers `answer`.
pub(crate) fn library(v: u32, answer: &str) -> String {
    format!("#!lua name=sketchboard_v{v}\nredis.register_function('sb_append_v{v}', function() return '{answer}' end)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_build_loads_its_own_functions_replaces_none_and_loads_them_again_where_missing() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path());
    let (ours, next) = (FUNCTIONS_VERSION, FUNCTIONS_VERSION + 1);
    // A rolling upgrade: a newer build's library is there already, with its own code.
    assert_eq!(redis.cli(&["FUNCTION", "LOAD", &library(next, "newer code")]), format!("sketchboard_v{next}"));
    let store = redis_store(&redis.url).await.unwrap();
    let room = RoomName::parse("versions").unwrap();
    store.append(&room, one(1, "a", 1, create("s", 10.0))).await.unwrap();
    let listed = redis.cli(&["FUNCTION", "LIST"]);
    assert!(listed.contains(&format!("sketchboard_v{ours}")) && listed.contains(&format!("sketchboard_v{next}")));
    assert_eq!(redis.cli(&["FCALL", &format!("sb_append_v{next}"), "0"]), "newer code", "left as it was");
    // A second node of this build finds its own code there: it starts, and replaces nothing.
    let again = redis_store(&redis.url).await.unwrap();
    // A Redis without them (a new or flushed server, a primary that took over the room's slot):
    // the next call loads them again, and goes through.
    assert_eq!(redis.cli(&["FUNCTION", "FLUSH"]), "OK");
    again.append(&room, one(2, "a", 2, moved("s", 20.0))).await.unwrap();
    assert!(redis.cli(&["FUNCTION", "LIST"]).contains(&format!("sketchboard_v{ours}")));
    assert_eq!(again.head(&room).await.unwrap().seq, 2);
    // Other code under this build's version: a node refuses to start rather than run it or replace it.
    redis.cli(&["FUNCTION", "DELETE", &format!("sketchboard_v{ours}")]);
    redis.cli(&["FUNCTION", "LOAD", &library(ours, "other code")]);
    let refused = redis_store(&redis.url).await.err().expect("refused");
    assert!(refused.to_string().contains("already exists"), "{refused}");
    assert_eq!(redis.cli(&["FCALL", &format!("sb_append_v{ours}"), "0"]), "other code", "not replaced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_key_the_access_no_longer_names_opens_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path());
    let store = redis_store(&redis.url).await.unwrap();
    let room = RoomName::parse("tokens").unwrap();
    store.append(&room, one(1, "a", 1, create("s", 10.0))).await.unwrap();
    let access = |token: &str| sketchboard::server::testing::Access { private: false, view_token: Some(token.into()) };
    store.set_access(&room, access("first")).await.unwrap();
    assert_eq!(store.room_for_token("first").await.unwrap(), Some(room.clone()));
    // A node that died between the writes of a replacement leaves the old token's key behind
    // (the token keys are in slots of their own, so they are not written in the room's Function).
    store.set_access(&room, access("second")).await.unwrap();
    assert_eq!(redis.cli(&["SET", "sb:token:{first}", "tokens"]), "OK");
    assert_eq!(store.room_for_token("first").await.unwrap(), None, "the room's access names another token");
    assert_eq!(store.room_for_token("second").await.unwrap(), Some(room));
}
