//! The rooms' log in a real Redis (`storage::redis_log`), the ground the
//! multi-node mode stands on: appends are atomic compare-and-sets on the
//! head that refuse stale ops, two nodes appending at one head let exactly
//! one through, and what Redis acknowledged survives it being killed.

use sketchboard::model::{Board, Change, ClientId, RoomName, Shape, ShapeId, ShapeKind};
use sketchboard::server::storage::Record;
use sketchboard::server::storage::redis_log::{Appended, RedisLog};

use crate::common::redis::RedisServer;

fn record(client: &str, op: u64, change: Change) -> Record {
    Record { seq: 0, client: ClientId::parse(client).unwrap(), op, change, by: None }
}

fn create(id: &str, x: f64) -> Change {
    Change::Create { shape: Shape::new(ShapeId::parse(id).unwrap(), ShapeKind::Circle, x, 10.0) }
}

fn moved(id: &str, x: f64) -> Change {
    Change::Move { id: ShapeId::parse(id).unwrap(), x, y: 10.0 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_compare_and_set_the_head_and_refuse_stale_ops() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path());
    let log = RedisLog::connect(&redis.url).await.unwrap();
    let room = RoomName::parse("cas").unwrap();

    let first = [record("alice", 1, create("a", 10.0)), record("alice", 2, moved("a", 50.0))];
    assert_eq!(log.append(&room, 0, 7, 1_000, &first).await.unwrap(), Appended::Recorded { head: 2, epoch: 7 });
    // A node that still holds head 0 is told where the head is; nothing is recorded.
    let late = [record("bob", 1, create("b", 300.0))];
    assert_eq!(log.append(&room, 0, 9, 1_001, &late).await.unwrap(), Appended::Conflict { head: 2 });
    // A change re-sent after a drop is refused at any head, with its client's mark.
    let again = [record("alice", 2, moved("a", 50.0))];
    assert_eq!(log.append(&room, 2, 7, 1_002, &again).await.unwrap(), Appended::Stale { index: 0, mark: 2 });
    // At the right head it goes in; the epoch stays the room's first.
    assert_eq!(log.append(&room, 2, 9, 1_003, &late).await.unwrap(), Appended::Recorded { head: 3, epoch: 7 });

    let entries = log.read(&room, 0, None).await.unwrap();
    let summary: Vec<_> = entries.iter().map(|e| (e.seq, e.client.to_string(), e.op, e.at_ms)).collect();
    assert_eq!(
        summary,
        [(1, "alice".into(), 1, 1_000), (2, "alice".into(), 2, 1_000), (3, "bob".into(), 1, 1_003)],
        "in order, with their times"
    );
    assert_eq!(entries[2].change, late[0].change);
    assert_eq!(log.read(&room, 1, Some(1)).await.unwrap().iter().map(|e| e.seq).collect::<Vec<_>>(), [2]);

    let loaded = log.load_room(&room).await.unwrap();
    let mut expected = Board::new();
    for e in &entries {
        expected.apply(&e.change).unwrap();
    }
    assert_eq!((loaded.seq, loaded.epoch, loaded.board.clone()), (3, Some(7), expected.clone()));
    assert_eq!(loaded.last_ops.get(&ClientId::parse("alice").unwrap()), Some(&2));
    assert_eq!(loaded.recent.len(), 3);

    // A snapshot is kept unless a later one is; loading starts from it.
    let board = serde_json::to_string(&expected).unwrap();
    assert!(log.snapshot(&room, 3, &board).await.unwrap());
    assert!(!log.snapshot(&room, 2, "[]").await.unwrap(), "an older snapshot never replaces a newer one");
    let more = [record("bob", 2, moved("b", 700.0))];
    assert_eq!(log.append(&room, 3, 7, 1_004, &more).await.unwrap(), Appended::Recorded { head: 4, epoch: 7 });
    expected.apply(&more[0].change).unwrap();
    let loaded = log.load_room(&room).await.unwrap();
    assert_eq!((loaded.seq, loaded.since_snapshot, loaded.board), (4, 1, expected));
    assert!(log.load_room(&RoomName::parse("never-used").unwrap()).await.unwrap().epoch.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_appenders_at_one_head_let_exactly_one_through() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path());
    let (one, two) = (RedisLog::connect(&redis.url).await.unwrap(), RedisLog::connect(&redis.url).await.unwrap());
    let room = RoomName::parse("race").unwrap();
    let seed = [record("seed", 1, create("s", 10.0))];
    one.append(&room, 0, 1, 0, &seed).await.unwrap();
    let mut head = 1;
    for round in 1..=20u64 {
        let a = [record("node-a", round, moved("s", round as f64))];
        let b = [record("node-b", round, moved("s", 500.0 + round as f64))];
        let (ra, rb) = tokio::join!(one.append(&room, head, 1, 0, &a), two.append(&room, head, 1, 0, &b));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let through = [&ra, &rb].iter().filter(|r| matches!(r, Appended::Recorded { .. })).count();
        assert_eq!(through, 1, "round {round}: exactly one of {ra:?} and {rb:?}");
        // The other reads the new head and tries again, as a room actor does.
        let (retry, log) = if matches!(ra, Appended::Conflict { .. }) { (a, &one) } else { (b, &two) };
        assert_eq!(
            log.append(&room, head + 1, 1, 0, &retry).await.unwrap(),
            Appended::Recorded { head: head + 2, epoch: 1 }
        );
        head += 2;
    }
    let seqs: Vec<u64> = one.read(&room, 0, None).await.unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=41).collect::<Vec<_>>(), "one gapless order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_redis_acknowledged_survives_it_being_killed() {
    let dir = tempfile::tempdir().unwrap();
    let mut redis = RedisServer::start(dir.path());
    let room = RoomName::parse("durable").unwrap();
    {
        let log = RedisLog::connect(&redis.url).await.unwrap();
        log.append(&room, 0, 3, 0, &[record("c", 1, create("a", 0.0))]).await.unwrap();
        for i in 2..=50u64 {
            let appended = log.append(&room, i - 1, 3, 0, &[record("c", i, moved("a", i as f64))]).await.unwrap();
            assert_eq!(appended, Appended::Recorded { head: i, epoch: 3 });
        }
    }
    redis.kill();
    redis.restart();
    let log = RedisLog::connect(&redis.url).await.unwrap();
    let loaded = log.load_room(&room).await.unwrap();
    assert_eq!((loaded.seq, loaded.epoch), (50, Some(3)), "every acknowledged append is back");
    assert_eq!(loaded.board.shapes().next().map(|s| s.x), Some(50.0));
}

/// A room loads while another node appends: what it loads is one moment of
/// the log, its client marks included. (Marks read after the head once held
/// ops beyond it; a room holding such a mark refused changes as stale, or
/// told a tab its unsent changes were in, though its board lacked them.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_loaded_while_another_node_appends_is_one_moment_of_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path());
    let (writer, reader) = (RedisLog::connect(&redis.url).await.unwrap(), RedisLog::connect(&redis.url).await.unwrap());
    let room = RoomName::parse("moment").unwrap();
    writer.append(&room, 0, 5, 0, &[record("c", 1, create("a", 1.0))]).await.unwrap();
    const APPENDS: u64 = 3_000;
    let appending_to = room.clone();
    let appending = tokio::spawn(async move {
        for op in 2..=APPENDS {
            let appended =
                writer.append(&appending_to, op - 1, 5, 0, &[record("c", op, moved("a", (op % 1000) as f64))]).await;
            assert_eq!(appended.unwrap(), Appended::Recorded { head: op, epoch: 5 });
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
