//! The schema's versions: the database's `user_version` says how many of
//! `MIGRATIONS` it has taken. Steps are only ever added at the end.

use rusqlite::{Connection, OptionalExtension};

use super::convert::sql;
use crate::server::storage::StoreError;

/// The schema, one step per version: the database's `user_version` says how
/// many steps it has taken. Steps are only ever added at the end.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: rooms with their latest snapshot, the change log, each client's last op.
    "CREATE TABLE rooms (
        name         TEXT PRIMARY KEY,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        seq          INTEGER NOT NULL DEFAULT 0,
        shape_count  INTEGER NOT NULL DEFAULT 0,
        snapshot_seq INTEGER NOT NULL DEFAULT 0,
        snapshot     TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX rooms_by_update ON rooms (updated_at DESC);
    CREATE TABLE changes (
        room   TEXT NOT NULL,
        seq    INTEGER NOT NULL,
        client TEXT NOT NULL,
        op     INTEGER NOT NULL,
        change TEXT NOT NULL,
        PRIMARY KEY (room, seq)
    ) WITHOUT ROWID;
    CREATE TABLE client_ops (
        room       TEXT NOT NULL,
        client     TEXT NOT NULL,
        last_op    INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (room, client)
    ) WITHOUT ROWID;",
    // 2: room epochs. Rooms recorded before them keep epoch 0.
    "ALTER TABLE rooms ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;",
    // 3: when each room was last opened (for expiry) and who made it (a keyed
    // hash of an address, for a lobby no one address can fill), and the key.
    "ALTER TABLE rooms ADD COLUMN opened_at INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rooms ADD COLUMN creator TEXT NOT NULL DEFAULT '';
    UPDATE rooms SET opened_at = updated_at;
    CREATE INDEX rooms_by_opening ON rooms (opened_at);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;",
    // 4: private rooms and view-only tokens (see `access`), apart from the
    // rooms' rows, which appear only with a room's first change.
    "CREATE TABLE room_access (
        room       TEXT PRIMARY KEY,
        private    INTEGER NOT NULL DEFAULT 0,
        view_token TEXT UNIQUE,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;",
    // 5: history. When each change was recorded (server time, ms; changes from
    // before this step have 0: unknown), and every snapshot kept as a keyframe
    // to replay from. The log is no longer trimmed behind snapshots.
    "ALTER TABLE changes ADD COLUMN at INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE keyframes (
        room  TEXT NOT NULL,
        seq   INTEGER NOT NULL,
        board TEXT NOT NULL,
        PRIMARY KEY (room, seq)
    ) WITHOUT ROWID;",
];

/// Brings the schema up to date, one step per transaction.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let known = MIGRATIONS.len() as i64;
    let mut version: i64 =
        conn.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(sql("reading the schema version"))?;
    if version > known {
        return Err(StoreError::TooNew { found: version, known });
    }
    if version == 0 {
        version = unversioned(conn)?;
    }
    for (step, ddl) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(sql("starting a migration"))?;
        tx.execute_batch(ddl).map_err(sql("migrating the schema"))?;
        tx.pragma_update(None, "user_version", step as i64 + 1).map_err(sql("recording the schema version"))?;
        tx.commit().map_err(sql("committing a migration"))?;
    }
    Ok(())
}

/// Databases made before the schema was versioned have `user_version` 0 and
/// the tables of step 1, with or without step 2: which steps they have taken.
fn unversioned(conn: &Connection) -> Result<i64, StoreError> {
    let exists =
        |query: &str| conn.prepare(query).and_then(|mut stmt| stmt.exists([])).map_err(sql("reading the schema"));
    if !exists("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rooms'")? {
        return Ok(0);
    }
    Ok(if exists("SELECT 1 FROM pragma_table_info('rooms') WHERE name = 'epoch'")? { 2 } else { 1 })
}

/// The database's own random key for pseudonyms, made the first time.
pub(super) fn address_key(conn: &Connection) -> Result<[u8; 16], StoreError> {
    let stored: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE key = 'address_key'", [], |row| row.get(0))
        .optional()
        .map_err(sql("reading the address key"))?;
    if let Some(key) = stored.and_then(|v| <[u8; 16]>::try_from(v).ok()) {
        return Ok(key);
    }
    let key: [u8; 16] = rand::random();
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('address_key', ?1)", [&key[..]])
        .map_err(sql("storing the address key"))?;
    Ok(key)
}
