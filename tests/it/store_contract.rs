//! The contract every storage engine keeps (`storage::RoomStore`): the same
//! tests, run against SQLite, a real `redis-server`, a real Redis Cluster
//! of three primaries (where the lobby's and the index's keys sit on other
//! primaries than the rooms', and a SCAN must visit each), and a real
//! `redis-server` keeping two changes of each room with the rest archived to
//! a real PostgreSQL as the tests write. A third engine
//! has only to pass them. What one engine does alone (SQLite's schema
//! versions, Redis surviving kill -9 or two nodes racing) is tested beside it.

use std::future::Future;

use sketchboard::server::testing::{
    Access, Append, Head, Node, Record, SNAPSHOT_EVERY, Snapshot, Store, StoreError, now_ms, redis_store,
    redis_store_archived, sqlite_store,
};
use sketchboard_core::model::{Board, Change, ClientId, RoomName, Shape, ShapeId, ShapeKind};

use crate::common::postgres::PgServer;
use crate::common::redis::{RedisCluster, RedisServer};
use crate::common::whole_log;

/// Where a store lives, so a test can open it again as a restarted node would.
pub(crate) enum Place {
    Sqlite {
        url: String,
        _dir: tempfile::TempDir,
    },
    Redis {
        server: RedisServer,
        _dir: tempfile::TempDir,
    },
    Cluster {
        cluster: RedisCluster,
        _dir: tempfile::TempDir,
    },
    /// Redis keeping two changes of each room, the rest archived to PostgreSQL
    /// as they come (in the background: the tests read while it archives).
    Archived {
        server: RedisServer,
        pg: PgServer,
        _dir: tempfile::TempDir,
    },
}

impl Place {
    fn sqlite() -> Place {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("contract.db").display());
        Place::Sqlite { url, _dir: dir }
    }

    fn redis() -> Place {
        let dir = tempfile::tempdir().unwrap();
        Place::Redis { server: RedisServer::start(dir.path()), _dir: dir }
    }

    fn cluster() -> Place {
        let dir = tempfile::tempdir().unwrap();
        Place::Cluster { cluster: RedisCluster::start(dir.path()), _dir: dir }
    }

    fn archived() -> Place {
        let dir = tempfile::tempdir().unwrap();
        Place::Archived { server: RedisServer::start(dir.path()), pg: PgServer::start(dir.path()), _dir: dir }
    }

    pub(crate) async fn open(&self) -> Store {
        match self {
            Place::Sqlite { url, .. } => sqlite_store(url).unwrap(),
            Place::Redis { server, .. } => redis_store(&server.url).await.unwrap(),
            Place::Cluster { cluster, .. } => redis_store(&cluster.url).await.unwrap(),
            Place::Archived { server, pg, .. } => {
                let node = Node { name: "contract".into(), address: "http://contract.invalid".into() };
                let lease = std::time::Duration::from_secs(5);
                redis_store_archived(&server.url, node, lease, &pg.url, 2).await.unwrap()
            }
        }
    }
}

/// Runs a contract test against every engine.
macro_rules! contract {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                super::run(super::Place::sqlite(), super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_redis() {
                super::run(super::Place::redis(), super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_redis_cluster() {
                super::run(super::Place::cluster(), super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_redis_archived() {
                super::run(super::Place::archived(), super::$name).await;
            }
        }
    };
}

async fn run<F: Future<Output = ()>>(place: Place, test: impl FnOnce(Place) -> F) {
    test(place).await;
}

fn room(name: &str) -> RoomName {
    RoomName::parse(name).unwrap()
}

fn create(id: &str, x: f64) -> Change {
    Change::Create { shape: Shape::new(ShapeId::parse(id).unwrap(), ShapeKind::Circle, x, 10.0) }
}

fn moved(id: &str, x: f64) -> Change {
    Change::Move { id: ShapeId::parse(id).unwrap(), x, y: 10.0 }
}

/// An append of `changes` (client, op, change) numbered on from `head`;
/// with `first`, the room's first (it stores the room, made from that address).
fn append(head: u64, changes: &[(&str, u64, Change)], first: Option<&str>) -> Append {
    let records = changes
        .iter()
        .zip(head + 1..)
        .map(|((client, op, change), seq)| Record {
            seq,
            client: ClientId::parse(*client).unwrap(),
            op: *op,
            change: change.clone(),
            by: None,
        })
        .collect();
    Append { records, epoch: 7, creator: first.map(str::to_owned), shape_count: 1, ..Default::default() }
}

fn lost_race(result: Result<(), StoreError>) -> StoreError {
    match result {
        Err(e) if e.lost_race() => e,
        other => panic!("expected the append to be refused, got {other:?}"),
    }
}

contract!(appends_compare_and_set_the_head_and_refuse_stale_ops);
async fn appends_compare_and_set_the_head_and_refuse_stale_ops(place: Place) {
    let store = place.open().await;
    let r = room("cas");
    let first = [("alice", 1, create("a", 10.0)), ("alice", 2, moved("a", 50.0))];
    store.append(&r, append(0, &first, Some("192.0.2.1"))).await.unwrap();
    // An appender that still holds head 0 is told where the head is; nothing is recorded.
    let late = [("bob", 1, create("b", 300.0))];
    match lost_race(store.append(&r, append(0, &late, None)).await) {
        StoreError::HeadMoved { head: 2 } => {}
        other => panic!("{other:?}"),
    }
    // A change re-sent after a drop is refused at the right head, with its client's mark.
    match lost_race(store.append(&r, append(2, &[("alice", 2, moved("a", 50.0))], None)).await) {
        StoreError::StaleOp { index: 0, mark: 2 } => {}
        other => panic!("{other:?}"),
    }
    // Records that do not follow on from the head they claim are refused too.
    let skipping = Append { records: vec![append(3, &late, None).records.remove(0)], ..append(0, &[], None) };
    lost_race(store.append(&r, skipping).await);
    // At the right head it goes in; the epoch stays the room's first.
    let mut later = append(2, &late, None);
    later.epoch = 9;
    store.append(&r, later).await.unwrap();
    let head = store.head(&r).await.unwrap();
    assert_eq!((head.seq, Some(head.epoch)), (3, store.load_room(&r).await.unwrap().epoch), "head and epoch, unread");
    // A node started afresh refuses the same repeat: the marks are stored.
    let again = place.open().await;
    match lost_race(again.append(&r, append(3, &[("bob", 1, moved("b", 1.0))], None)).await) {
        StoreError::StaleOp { index: 0, mark: 1 } => {}
        other => panic!("{other:?}"),
    }
    let loaded = again.load_room(&r).await.unwrap();
    assert_eq!((loaded.seq, loaded.epoch), (3, Some(7)));
}

contract!(a_room_loads_as_its_head_board_marks_and_recent_changes);
async fn a_room_loads_as_its_head_board_marks_and_recent_changes(place: Place) {
    let store = place.open().await;
    let r = room("load");
    let empty = store.load_room(&room("never-used")).await.unwrap();
    assert_eq!((empty.seq, empty.epoch, empty.board.len()), (0, None, 0), "a room never used loads empty");
    store.append(&r, append(0, &[("c", 1, create("a", 1.0))], Some("192.0.2.1"))).await.unwrap();
    let mut expected = Board::new();
    expected.apply(&create("a", 1.0)).unwrap();
    for op in 2..=40u64 {
        let change = moved("a", op as f64);
        store.append(&r, append(op - 1, &[("c", op, change.clone())], None)).await.unwrap();
        expected.apply(&change).unwrap();
    }
    store.append(&r, append(40, &[("d", 5, create("d", 500.0))], None)).await.unwrap();
    expected.apply(&create("d", 500.0)).unwrap();
    for store in [store, place.open().await] {
        let loaded = store.load_room(&r).await.unwrap();
        assert_eq!((loaded.seq, loaded.epoch, &loaded.board), (41, Some(7), &expected));
        assert_eq!(loaded.last_ops.get(&ClientId::parse("c").unwrap()), Some(&40));
        assert_eq!(loaded.last_ops.get(&ClientId::parse("d").unwrap()), Some(&5));
        assert_eq!(loaded.recent.len(), 41, "every change, for catching clients up");
        assert_eq!(loaded.recent.last(1).next(), Some(&create("d", 500.0)));
    }
}

contract!(the_log_reads_back_in_order_a_page_at_a_time);
async fn the_log_reads_back_in_order_a_page_at_a_time(place: Place) {
    let store = place.open().await;
    let r = room("pages");
    let before = now_ms();
    let changes = [("a", 1, create("a", 1.0)), ("b", 1, create("b", 2.0)), ("a", 2, moved("a", 3.0))];
    store.append(&r, append(0, &changes, Some("192.0.2.1"))).await.unwrap();
    let entries = whole_log(&store, &r).await;
    let summary: Vec<_> = entries.iter().map(|e| (e.seq, e.client.to_string(), e.op, e.change.clone())).collect();
    let expected: Vec<_> =
        changes.iter().zip(1..).map(|((c, op, ch), seq)| (seq, c.to_string(), *op, ch.clone())).collect();
    assert_eq!(summary, expected);
    assert!(entries.iter().all(|e| e.at_ms >= before - 1000 && e.bytes > 0), "times and sizes kept");
    let page = store.read_log(&r, 1, 1).await.unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [2]);
    assert!(store.read_log(&r, 3, 10).await.unwrap().is_empty());
    // History's view of the same log: pages with times, and the head.
    let history = store.changes(&r, 1, 10).await.unwrap();
    assert_eq!(history.iter().map(|l| l.seq).collect::<Vec<_>>(), [2, 3]);
    assert!(history.iter().all(|l| l.at_ms.is_some_and(|at| at >= before - 1000)));
    assert_eq!(store.changes(&r, 0, 1).await.unwrap().len(), 1);
    assert_eq!(store.head(&r).await.unwrap().seq, 3);
    assert_eq!(store.head(&room("nothing")).await.unwrap(), Head::default());
}

contract!(reads_past_every_seq_there_can_be_are_empty_not_wrapped);
async fn reads_past_every_seq_there_can_be_are_empty_not_wrapped(place: Place) {
    let store = place.open().await;
    let r = room("edges");
    store
        .append(&r, append(0, &[("c", 1, create("a", 1.0)), ("c", 2, moved("a", 2.0))], Some("192.0.2.1")))
        .await
        .unwrap();
    // 2^63 - 1, 2^63 and 2^64 - 1 as `after`: once these wrapped and returned the whole log.
    for after in [i64::MAX as u64, 1 << 63, u64::MAX - 1, u64::MAX] {
        assert!(store.changes(&r, after, 100).await.unwrap().is_empty(), "changes after {after}");
        assert!(store.read_log(&r, after, 100).await.unwrap().is_empty(), "the log after {after}");
        assert!(store.version(&r, after).await.unwrap().is_none(), "version {after}");
    }
    assert_eq!(store.changes(&r, 0, usize::MAX).await.unwrap().len(), 2, "a page as large as can be");
    assert_eq!(store.read_log(&r, 1, usize::MAX).await.unwrap().len(), 1);
}

contract!(snapshots_are_loaded_from_and_every_version_reads_across_keyframes);
async fn snapshots_are_loaded_from_and_every_version_reads_across_keyframes(place: Place) {
    let store = place.open().await;
    let r = room("frames");
    let total = 2 * SNAPSHOT_EVERY + 10;
    let mut boards = vec![Board::new()];
    let mut board = Board::new();
    for seq in 1..=total {
        let change = if seq == 1 { create("s", 0.0) } else { moved("s", (seq % 1000) as f64) };
        board.apply(&change).unwrap();
        let mut a = append(seq - 1, &[("w", seq, change)], (seq == 1).then_some("192.0.2.1"));
        // A snapshot every SNAPSHOT_EVERY changes, as the room would decide.
        if seq % SNAPSHOT_EVERY == 0 {
            let marks = vec![(ClientId::parse("w").unwrap(), seq)];
            a.snapshot = Some(Snapshot { board: serde_json::to_string(&board).unwrap(), marks });
        }
        store.append(&r, a).await.unwrap();
        boards.push(board.clone());
    }
    let loaded = place.open().await.load_room(&r).await.unwrap();
    assert_eq!((loaded.seq, loaded.since_snapshot, &loaded.board), (total, 10, &board), "from the latest snapshot");
    assert!(loaded.snapshot_bytes > 0 && loaded.log_bytes_since_snapshot > 0);
    for seq in [0, 1, SNAPSHOT_EVERY - 1, SNAPSHOT_EVERY, SNAPSHOT_EVERY + 1, 2 * SNAPSHOT_EVERY, total] {
        let version = store.version(&r, seq).await.unwrap().unwrap_or_else(|| panic!("version {seq}"));
        assert_eq!((version.seq, &version.board), (seq, &boards[seq as usize]), "version {seq}");
        assert_eq!(version.at_ms.is_some(), seq > 0, "version {seq} has its change's time");
    }
    assert!(store.version(&r, total + 1).await.unwrap().is_none(), "no version past the head");
}

contract!(access_is_kept_and_a_replaced_view_token_stops_opening_the_room);
async fn access_is_kept_and_a_replaced_view_token_stops_opening_the_room(place: Place) {
    let store = place.open().await;
    let r = room("shared");
    assert_eq!(store.access(&r).await.unwrap(), None);
    let first = Access { private: false, view_token: Some("token-one".into()) };
    store.set_access(&r, first.clone()).await.unwrap();
    assert_eq!(store.access(&r).await.unwrap(), Some(first));
    assert_eq!(store.room_for_token("token-one").await.unwrap(), Some(r.clone()));
    store.set_access(&r, Access { private: false, view_token: Some("token-two".into()) }).await.unwrap();
    assert_eq!(store.room_for_token("token-one").await.unwrap(), None, "the old token opens nothing");
    assert_eq!(store.room_for_token("token-two").await.unwrap(), Some(r.clone()));
    assert_eq!(store.room_for_token("no-such-token").await.unwrap(), None);
    // Private only ever turns on.
    store.set_access(&r, Access { private: true, view_token: Some("token-two".into()) }).await.unwrap();
    store.set_access(&r, Access { private: false, view_token: Some("token-two".into()) }).await.unwrap();
    let kept = place.open().await.access(&r).await.unwrap();
    assert_eq!(kept, Some(Access { private: true, view_token: Some("token-two".into()) }));
}

contract!(the_lobby_lists_recent_public_rooms_and_at_most_a_few_from_one_address);
async fn the_lobby_lists_recent_public_rooms_and_at_most_a_few_from_one_address(place: Place) {
    let store = place.open().await;
    for i in 0..6 {
        store
            .append(&room(&format!("flood{i}")), append(0, &[("f", 1, create("a", 1.0))], Some("203.0.113.7")))
            .await
            .unwrap();
    }
    store.append(&room("mine"), append(0, &[("m", 1, create("a", 1.0))], Some("198.51.100.1"))).await.unwrap();
    store.append(&room("hidden"), append(0, &[("h", 1, create("a", 1.0))], Some("198.51.100.2"))).await.unwrap();
    store.set_access(&room("hidden"), Access { private: true, view_token: None }).await.unwrap();
    // The clock moves on (the lobby orders by the millisecond), then `mine` changes.
    let t = now_ms();
    while now_ms() <= t {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    store.refresh_row(&room("mine"), 1, 42).await.unwrap();
    let listed = store.list_rooms(3600 * 1000, 3, 100).await.unwrap();
    let names: Vec<String> = listed.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(names.iter().filter(|n| n.starts_with("flood")).count(), 3, "{names:?}");
    assert!(!names.contains(&"hidden".to_owned()), "a private room is never listed: {names:?}");
    let mine = listed.iter().find(|r| r.name.as_str() == "mine").unwrap_or_else(|| panic!("{names:?}"));
    assert_eq!(mine.shapes, 42, "the line as last brought up to date");
    assert_eq!(names.first().map(String::as_str), Some("mine"), "the latest first: {names:?}");
    assert_eq!(store.list_rooms(3600 * 1000, 3, 2).await.unwrap().len(), 2, "at most the limit");
}

contract!(rooms_nobody_opened_since_the_cutoff_expire_with_everything_they_hold);
async fn rooms_nobody_opened_since_the_cutoff_expire_with_everything_they_hold(place: Place) {
    let store = place.open().await;
    let day = 24 * 3600 * 1000;
    let now = now_ms();
    for name in ["stale", "loaded", "fresh"] {
        store.append(&room(name), append(0, &[("c", 1, create("a", 1.0))], Some("192.0.2.1"))).await.unwrap();
    }
    store.set_access(&room("stale"), Access { private: false, view_token: Some("stale-token".into()) }).await.unwrap();
    store.opened(&room("stale"), now - 40 * day).await.unwrap();
    store.opened(&room("loaded"), now - 40 * day).await.unwrap();
    // A visit to a room never stored stores nothing, and nothing expires for it.
    store.opened(&room("visited"), now - 40 * day).await.unwrap();
    let deleted = store.expire(now - 30 * day, vec![room("loaded")]).await.unwrap();
    assert_eq!(deleted, 1, "only the stale room went");
    let store = place.open().await;
    let gone = store.load_room(&room("stale")).await.unwrap();
    assert_eq!((gone.seq, gone.epoch), (0, None), "its log went with it");
    assert_eq!(store.head(&room("stale")).await.unwrap(), Head::default());
    assert!(store.changes(&room("stale"), 0, 10).await.unwrap().is_empty());
    assert_eq!(store.access(&room("stale")).await.unwrap(), None, "its access too");
    assert_eq!(store.room_for_token("stale-token").await.unwrap(), None, "and its view-only link");
    let listed: Vec<String> =
        store.list_rooms(3600 * 1000, 10, 100).await.unwrap().into_iter().map(|r| r.name.to_string()).collect();
    assert!(!listed.contains(&"stale".to_owned()), "and its lobby line: {listed:?}");
    for kept in ["loaded", "fresh"] {
        assert_eq!(store.load_room(&room(kept)).await.unwrap().seq, 1, "{kept} kept");
    }
    // Opening a room keeps it.
    store.opened(&room("loaded"), now).await.unwrap();
    assert_eq!(store.expire(now - 30 * day, Vec::new()).await.unwrap(), 0);
    // A room stored again after it expired is a new room (a new epoch), from seq 1.
    store.append(&room("stale"), append(0, &[("c", 1, create("a", 1.0))], Some("192.0.2.1"))).await.unwrap();
    assert_eq!(store.load_room(&room("stale")).await.unwrap().seq, 1);
}

contract!(the_store_answers_its_health_check);
async fn the_store_answers_its_health_check(place: Place) {
    place.open().await.ping().await.unwrap();
}
