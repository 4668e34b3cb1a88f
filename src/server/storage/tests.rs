//! The schema's versions against real database files: a database from before
//! versioned migrations is adopted where it stands, and one from a newer
//! build is refused rather than misread.
#![allow(clippy::unwrap_used)] // tests unwrap what must hold

use rusqlite::Connection;

use super::{Store, StoreError};
use crate::model::RoomName;

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
    assert_eq!(user_version(&path), super::sqlite::MIGRATIONS.len() as i64);
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
        conn.execute_batch(super::sqlite::MIGRATIONS[0]).unwrap();
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
    assert_eq!(user_version(&path), super::sqlite::MIGRATIONS.len() as i64);
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
