//! The schema's versions against real database files: a database from before
//! versioned migrations is adopted where it stands, and one from a newer
//! build is refused rather than misread.
#![allow(clippy::unwrap_used)] // tests unwrap what must hold

use rusqlite::Connection;

use super::SqliteStore as Store;
use crate::server::storage::{Append, Record, RoomStore, StoreError};
use sketchboard_core::model::RoomName;

fn url(dir: &tempfile::TempDir) -> (std::path::PathBuf, String) {
    let path = dir.path().join("board.db");
    let url = format!("sqlite://{}", path.display());
    (path, url)
}

fn user_version(path: &std::path::Path) -> i64 {
    Connection::open(path).unwrap().query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap()
}

#[tokio::test]
async fn a_new_database_takes_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let (path, url) = url(&dir);
    drop(Store::open(&url).unwrap());
    assert_eq!(user_version(&path), super::schema::MIGRATIONS.len() as i64);
    // Opening it again takes none.
    let store = Store::open(&url).unwrap();
    let room = store.load_room(&RoomName::parse("empty").unwrap()).await.unwrap();
    assert_eq!((room.seq, room.epoch), (0, None));
}

#[tokio::test]
async fn a_database_from_before_versions_and_epochs_is_adopted_and_keeps_its_rooms() {
    let dir = tempfile::tempdir().unwrap();
    let (path, url) = url(&dir);
    {
        // What the first release made: step 1's tables, no epoch, user_version 0.
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(super::schema::MIGRATIONS[0]).unwrap();
        conn.execute_batch(
            "INSERT INTO rooms (name, created_at, updated_at, seq, shape_count, snapshot_seq, snapshot)
             VALUES ('old', 1, 1, 1, 1, 0, '[]');
             INSERT INTO changes VALUES
               ('old', 1, 'tab', 1, '{\"op\":\"create\",\"shape\":{\"id\":\"s\",\"kind\":\"circle\",\"x\":5,\"y\":5}}');
             INSERT INTO client_ops VALUES ('old', 'tab', 1, 1);",
        )
        .unwrap();
    }
    let store = Store::open(&url).unwrap();
    assert_eq!(user_version(&path), super::schema::MIGRATIONS.len() as i64);
    let room = store.load_room(&RoomName::parse("old").unwrap()).await.unwrap();
    assert_eq!((room.seq, room.board.len(), room.epoch), (1, 1, Some(0)), "rooms from before epochs have epoch 0");
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, url) = url(&dir);
    Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 99").unwrap();
    match Store::open(&url) {
        Err(StoreError::TooNew { found: 99, .. }) => {}
        Err(other) => panic!("refused, but for the wrong reason: {other}"),
        Ok(_) => panic!("a schema from the future was opened"),
    }
}

fn create(seq: u64, id: &str) -> Record {
    use sketchboard_core::model::{Change, ClientId, Shape, ShapeId, ShapeKind};
    let shape = Shape::new(ShapeId::parse(id).unwrap(), ShapeKind::Circle, 0.0, 0.0);
    Record { seq, client: ClientId::parse("tab").unwrap(), op: seq, change: Change::Create { shape }, by: None }
}

/// Stores a room with one change, made from `creator`.
async fn store_room(store: &Store, name: &str, creator: &str) {
    let append = Append {
        records: vec![create(1, "s")],
        epoch: 7,
        creator: Some(creator.into()),
        shape_count: 1,
        ..Default::default()
    };
    store.append(&RoomName::parse(name).unwrap(), append).await.unwrap();
}

#[tokio::test]
async fn the_lobby_lists_recent_rooms_and_at_most_three_from_one_address() {
    let dir = tempfile::tempdir().unwrap();
    let (path, url) = url(&dir);
    let store = Store::open(&url).unwrap();
    for i in 0..6 {
        store_room(&store, &format!("flood{i}"), "203.0.113.7").await;
    }
    store_room(&store, "mine", "198.51.100.1").await;
    store_room(&store, "old", "198.51.100.2").await;
    Connection::open(&path).unwrap().execute("UPDATE rooms SET updated_at = 0 WHERE name = 'old'", []).unwrap();
    let listed: Vec<String> =
        store.list_rooms(3600 * 1000, 3, 100).await.unwrap().into_iter().map(|r| r.name.to_string()).collect();
    assert_eq!(listed.iter().filter(|n| n.starts_with("flood")).count(), 3, "{listed:?}");
    assert!(listed.contains(&"mine".to_owned()), "{listed:?}");
    assert!(!listed.contains(&"old".to_owned()), "not changed lately: {listed:?}");
    // The creator is kept only as a keyed hash.
    let creator: String = Connection::open(&path)
        .unwrap()
        .query_row("SELECT creator FROM rooms WHERE name = 'mine'", [], |r| r.get(0))
        .unwrap();
    assert!(!creator.contains("198.51"), "{creator}");
}

/// Recording a change writes one row and nothing else: the client's mark
/// comes back from the log when the room loads.
#[tokio::test]
async fn a_clients_mark_is_recovered_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (path, url) = url(&dir);
    let store = Store::open(&url).unwrap();
    store_room(&store, "r", "192.0.2.1").await;
    let more = Append { records: vec![create(2, "t")], shape_count: 2, ..Default::default() };
    store.append(&RoomName::parse("r").unwrap(), more).await.unwrap();
    let marks: i64 =
        Connection::open(&path).unwrap().query_row("SELECT count(*) FROM client_ops", [], |r| r.get(0)).unwrap();
    assert_eq!(marks, 0, "no mark written before a snapshot");
    let room = store.load_room(&RoomName::parse("r").unwrap()).await.unwrap();
    assert_eq!(room.seq, 2, "the row lags; the log does not");
    assert_eq!(room.last_ops.get(&sketchboard_core::model::ClientId::parse("tab").unwrap()), Some(&2));
}

/// SQLite's own checkpoints are off on the writer (they ran inside the
/// commit that crossed 1,000 pages, holding every room behind it); the
/// checkpointing thread copies the log back instead, and the writer starts
/// the log over now and then, so it holds a fraction of a second's commits,
/// where unchecked it would hold every one of these (each at least a page).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_ahead_log_is_checkpointed_off_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let (path, url) = url(&dir);
    let store = Store::open(&url).unwrap();
    let room = RoomName::parse("busy").unwrap();
    const COMMITS: i64 = 3000;
    let started = std::time::Instant::now();
    for seq in 1..=COMMITS as u64 {
        let append = Append { records: vec![create(seq, &format!("s{seq}"))], epoch: 1, ..Default::default() };
        store.append(&room, append).await.unwrap();
    }
    // The log's frames now (the checkpoint this asks for starts nothing over).
    let (log, _): (i64, i64) = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(1)?, r.get(2)?)))
        .unwrap();
    let took = started.elapsed();
    assert!(log < COMMITS, "the log holds {log} pages after {COMMITS} commits in {took:?}");
    let kept: i64 =
        Connection::open(&path).unwrap().query_row("SELECT count(*) FROM changes", [], |r| r.get(0)).unwrap();
    assert_eq!(kept, COMMITS, "every change is kept");
}
