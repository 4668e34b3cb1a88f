//! The SQL behind `Store`: schema, loading a room, recording a batch, listing
//! rooms. Everything here runs on a blocking thread with a connection in hand.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

use super::{
    CLIENT_OPS_KEPT_MS, Job, LOG_KEPT_BEHIND_SNAPSHOT, LoadedRoom, RECENT_CHANGES, RoomSummary, StoreError, sql,
};
use crate::model::{Board, Change, ClientId, RoomName};

pub(super) fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(sql("opening the database"))?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(sql("setting busy_timeout"))?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(sql("enabling WAL"))?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(sql("setting synchronous"))?;
    Ok(conn)
}

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

pub(super) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub(super) fn load_room(conn: &Connection, room: &RoomName) -> Result<LoadedRoom, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt { room: room.to_string(), detail };
    let Some((seq, snapshot_seq, snapshot, epoch)) = conn
        .query_row("SELECT seq, snapshot_seq, snapshot, epoch FROM rooms WHERE name = ?1", [room.as_str()], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?, row.get::<_, i64>(3)?))
        })
        .optional()
        .map_err(sql("reading a room"))?
    else {
        return Ok(LoadedRoom::default());
    };
    let mut board: Board = serde_json::from_str(&snapshot).map_err(|e| corrupt(format!("snapshot: {e}")))?;
    // The changes after the snapshot rebuild the board; the log reaches further
    // back than that (it is kept behind the snapshot), and the latest
    // RECENT_CHANGES of it are loaded too, for catching clients up.
    let first = snapshot_seq.min(seq - RECENT_CHANGES as i64).max(0) + 1;
    let mut stmt = conn
        .prepare_cached("SELECT seq, change FROM changes WHERE room = ?1 AND seq >= ?2 ORDER BY seq")
        .map_err(sql("reading a room's log"))?;
    let rows = stmt
        .query_map(params![room.as_str(), first], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))
        .map_err(sql("reading a room's log"))?;
    let mut expected = None;
    let mut recent = VecDeque::new();
    for row in rows {
        let (s, text) = row.map_err(sql("reading a room's log"))?;
        // The log may begin after `first` (an old room, trimmed), but it must
        // reach the snapshot, and be gapless from there on. A hole before the
        // snapshot only costs catching up from it: the board does not need it.
        let want = expected.unwrap_or(if s > snapshot_seq + 1 { snapshot_seq + 1 } else { s });
        if s != want && s <= snapshot_seq + 1 && want <= snapshot_seq {
            tracing::warn!(%room, "the log behind the snapshot has a hole before {s}; catching up starts after it");
            recent.clear();
        } else if s != want {
            return Err(corrupt(format!("the log jumps from {} to {s}", want - 1)));
        }
        let change: Change = serde_json::from_str(&text).map_err(|e| corrupt(format!("change {s}: {e}")))?;
        if s > snapshot_seq {
            // Every stored change was valid when it was accepted, in this order,
            // so it applies again; if it does not, the data is damaged: say so.
            board.apply(&change).map_err(|e| corrupt(format!("change {s} does not apply: {e}")))?;
        }
        if recent.len() == RECENT_CHANGES {
            recent.pop_front();
        }
        recent.push_back(change);
        expected = Some(s + 1);
    }
    let expected = expected.unwrap_or(snapshot_seq + 1);
    if expected - 1 != seq {
        return Err(corrupt(format!("the log ends at {} but the room says {seq}", expected - 1)));
    }
    let mut stmt = conn
        .prepare_cached("SELECT client, last_op FROM client_ops WHERE room = ?1")
        .map_err(sql("reading a room's clients"))?;
    let rows = stmt
        .query_map([room.as_str()], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
        .map_err(sql("reading a room's clients"))?;
    let mut last_ops = HashMap::new();
    for row in rows {
        let (client, op) = row.map_err(sql("reading a room's clients"))?;
        let client = ClientId::parse(client).map_err(|e| corrupt(format!("client id: {e}")))?;
        last_ops.insert(client, op.max(0) as u64);
    }
    let (seq, since_snapshot, epoch) = (seq as u64, (seq - snapshot_seq) as u64, Some(epoch.max(0) as u64));
    Ok(LoadedRoom { board, seq, since_snapshot, recent, last_ops, epoch })
}

pub(super) fn list_rooms(conn: &Connection, limit: usize) -> Result<Vec<RoomSummary>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT name, shape_count FROM rooms WHERE seq > 0 ORDER BY updated_at DESC LIMIT ?1")
        .map_err(sql("listing rooms"))?;
    let rows = stmt
        .query_map([limit as i64], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
        .map_err(sql("listing rooms"))?;
    let mut out = Vec::new();
    for row in rows {
        let (name, shapes) = row.map_err(sql("listing rooms"))?;
        // Names were validated before they were stored; skip any that were not.
        if let Ok(name) = RoomName::parse(name) {
            out.push(RoomSummary { name, shapes: shapes.max(0) as u64 });
        }
    }
    Ok(out)
}

pub(super) fn append(tx: &rusqlite::Savepoint<'_>, job: &Job, now: i64) -> Result<(), StoreError> {
    let Job { room, records, shape_count, snapshot, epoch, .. } = job;
    let (shape_count, snapshot) = (*shape_count, snapshot.as_deref());
    let Some(last) = records.last() else { return Ok(()) };
    tx.execute(
        "INSERT OR IGNORE INTO rooms (name, created_at, updated_at, epoch) VALUES (?1, ?2, ?2, ?3)",
        params![room.as_str(), now, *epoch as i64],
    )
    .map_err(sql("creating a room"))?;
    let mut insert = tx
        .prepare_cached("INSERT INTO changes (room, seq, client, op, change) VALUES (?1, ?2, ?3, ?4, ?5)")
        .map_err(sql("recording a change"))?;
    for r in records {
        let change = serde_json::to_string(&r.change)
            .map_err(|e| StoreError::Corrupt { room: room.to_string(), detail: format!("encoding: {e}") })?;
        insert
            .execute(params![room.as_str(), r.seq as i64, r.client.as_str(), r.op as i64, change])
            .map_err(sql("recording a change"))?;
    }
    let mut last_ops: HashMap<&ClientId, u64> = HashMap::new();
    for r in records {
        last_ops.insert(&r.client, r.op);
    }
    let mut upsert = tx
        .prepare_cached(
            "INSERT INTO client_ops (room, client, last_op, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (room, client) DO UPDATE
             SET last_op = max(last_op, excluded.last_op), updated_at = excluded.updated_at",
        )
        .map_err(sql("recording a client's last op"))?;
    for (client, op) in last_ops {
        upsert
            .execute(params![room.as_str(), client.as_str(), op as i64, now])
            .map_err(sql("recording a client's last op"))?;
    }
    let seq = last.seq as i64;
    tx.execute(
        "UPDATE rooms SET seq = ?2, shape_count = ?3, updated_at = ?4 WHERE name = ?1",
        params![room.as_str(), seq, shape_count as i64, now],
    )
    .map_err(sql("updating a room"))?;
    if let Some(snapshot) = snapshot {
        tx.execute(
            "UPDATE rooms SET snapshot = ?2, snapshot_seq = ?3 WHERE name = ?1",
            params![room.as_str(), snapshot, seq],
        )
        .map_err(sql("writing a snapshot"))?;
        tx.execute(
            "DELETE FROM changes WHERE room = ?1 AND seq <= ?2",
            params![room.as_str(), seq - LOG_KEPT_BEHIND_SNAPSHOT as i64],
        )
        .map_err(sql("trimming the log"))?;
        tx.execute(
            "DELETE FROM client_ops WHERE room = ?1 AND updated_at < ?2",
            params![room.as_str(), now - CLIENT_OPS_KEPT_MS],
        )
        .map_err(sql("forgetting old clients"))?;
    }
    Ok(())
}
