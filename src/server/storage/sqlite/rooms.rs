//! The SQL of rooms and their logs: opening the database, loading a room,
//! reading its log, recording a batch, listing and expiring rooms. Everything
//! here runs on a blocking thread with a connection in hand.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Savepoint, params};

use super::convert::{db_int, sql};
use crate::server::storage::recent::RECENT_CHANGES;
use crate::server::storage::{Append, CLIENT_OPS_KEPT_MS, LoadedRoom, LogEntry, Recent, StoreError};
use sketchboard_core::model::{Board, Change, ClientId, RoomName};

/// The page size of new databases. A commit writes every page it touches
/// whole, and recording a change touches one: small pages keep that small.
const PAGE_SIZE: i64 = 1024;

pub(super) fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(sql("opening the database"))?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(sql("setting busy_timeout"))?;
    // Only an empty database takes a new page size (before WAL is on).
    conn.pragma_update(None, "page_size", PAGE_SIZE).map_err(sql("setting the page size"))?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(sql("enabling WAL"))?;
    conn.pragma_update(None, "synchronous", "FULL").map_err(sql("setting synchronous"))?;
    Ok(conn)
}

pub(super) fn load_room(conn: &Connection, room: &RoomName) -> Result<LoadedRoom, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt { room: room.to_string(), detail };
    let Some((row_seq, snapshot_seq, snapshot, epoch)) = conn
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
    // RECENT_CHANGES of it are loaded too, for catching clients up. (The row's
    // seq may lag the log: it is brought up to date only now and then.)
    let first = snapshot_seq.min(row_seq - RECENT_CHANGES as i64).max(0) + 1;
    let mut stmt = conn
        .prepare_cached("SELECT seq, client, op, change FROM changes WHERE room = ?1 AND seq >= ?2 ORDER BY seq")
        .map_err(sql("reading a room's log"))?;
    let rows = stmt
        .query_map(params![room.as_str(), first], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?, row.get::<_, String>(3)?))
        })
        .map_err(sql("reading a room's log"))?;
    let mut expected = None;
    let mut recent = Recent::default();
    let mut log_bytes_since_snapshot = 0;
    // The marks the log vouches for, beyond those stored with the snapshot.
    let mut logged_ops: HashMap<String, i64> = HashMap::new();
    for row in rows {
        let (s, client, op, text) = row.map_err(sql("reading a room's log"))?;
        // The log may begin after `first` (a room trimmed by an older build), but it must
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
            log_bytes_since_snapshot += text.len();
            let mark = logged_ops.entry(client).or_default();
            *mark = (*mark).max(op);
        }
        recent.push(change);
        expected = Some(s + 1);
    }
    let seq = expected.unwrap_or(snapshot_seq + 1) - 1;
    if seq < row_seq {
        return Err(corrupt(format!("the log ends at {seq} but the room says {row_seq}")));
    }
    let mut stmt = conn
        .prepare_cached("SELECT client, last_op FROM client_ops WHERE room = ?1")
        .map_err(sql("reading a room's clients"))?;
    let rows = stmt
        .query_map([room.as_str()], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
        .map_err(sql("reading a room's clients"))?;
    let mut marks: HashMap<String, i64> = HashMap::new();
    for row in rows {
        let (client, op) = row.map_err(sql("reading a room's clients"))?;
        marks.insert(client, op);
    }
    for (client, op) in logged_ops {
        let mark = marks.entry(client).or_default();
        *mark = (*mark).max(op);
    }
    let mut last_ops = HashMap::with_capacity(marks.len());
    for (client, op) in marks {
        let client = ClientId::parse(client).map_err(|e| corrupt(format!("client id: {e}")))?;
        last_ops.insert(client, op.max(0) as u64);
    }
    Ok(LoadedRoom {
        board,
        seq: seq as u64,
        since_snapshot: (seq - snapshot_seq) as u64,
        recent,
        last_ops,
        epoch: Some(epoch.max(0) as u64),
        snapshot_bytes: snapshot.len(),
        log_bytes_since_snapshot,
        // One writer, its own file: this log cannot lose what it recorded.
        tip: None,
    })
}

/// Up to `candidates` rooms changed since `since` (ms), newest first, never
/// a private one: (name, shape count, creator) each, for `pick_listed`.
pub(super) fn listed_since(
    conn: &Connection,
    since: i64,
    candidates: usize,
) -> Result<Vec<(String, u64, String)>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT name, shape_count, creator FROM rooms WHERE seq > 0 AND updated_at >= ?1
               AND name NOT IN (SELECT room FROM room_access WHERE private = 1)
             ORDER BY updated_at DESC LIMIT ?2",
        )
        .map_err(sql("listing rooms"))?;
    let rows = stmt
        .query_map(params![since, db_int(candidates)], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?.max(0) as u64, row.get::<_, String>(2)?))
        })
        .map_err(sql("listing rooms"))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(sql("listing rooms"))
}

/// Up to `limit` entries of the room's log after `after`, in order.
pub(super) fn read_log(
    conn: &Connection,
    room: &RoomName,
    after: u64,
    limit: usize,
) -> Result<Vec<LogEntry>, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt { room: room.to_string(), detail };
    let mut stmt = conn
        .prepare_cached(
            "SELECT seq, client, op, at, change FROM changes WHERE room = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .map_err(sql("reading a room's log"))?;
    let rows = stmt
        .query_map(params![room.as_str(), db_int(after), db_int(limit)], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, String>(4)?,
            ))
        })
        .map_err(sql("reading a room's log"))?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, client, op, at_ms, text) = row.map_err(sql("reading a room's log"))?;
        let client = ClientId::parse(client).map_err(|e| corrupt(format!("change {seq}: client: {e}")))?;
        let change = serde_json::from_str(&text).map_err(|e| corrupt(format!("change {seq}: {e}")))?;
        let (seq, op) = (seq.max(0) as u64, op.max(0) as u64);
        out.push(LogEntry { seq, client, op, at_ms, change, bytes: text.len(), by: None });
    }
    Ok(out)
}

/// The room's head (the seq of its latest change, 0 for none) and each
/// client's mark, as committed: what `append`'s compare-and-set checks.
pub(super) fn head_and_marks(conn: &Connection, room: &RoomName) -> Result<(u64, HashMap<ClientId, u64>), StoreError> {
    let name = room.as_str();
    let last: Option<i64> = conn
        .query_row("SELECT max(seq) FROM changes WHERE room = ?1", [name], |row| row.get(0))
        .map_err(sql("reading a room's head"))?;
    let (row_seq, snapshot_seq) = conn
        .query_row("SELECT seq, snapshot_seq FROM rooms WHERE name = ?1", [name], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
        })
        .optional()
        .map_err(sql("reading a room's head"))?
        .unwrap_or((0, 0));
    let mut marks: HashMap<ClientId, u64> = HashMap::new();
    let mut note = |client: String, op: i64| {
        // A client id that no longer parses can make no new change either.
        if let Ok(client) = ClientId::parse(client) {
            let mark = marks.entry(client).or_default();
            *mark = (*mark).max(op.max(0) as u64);
        }
    };
    let mut stmt = conn
        .prepare_cached("SELECT client, last_op FROM client_ops WHERE room = ?1")
        .map_err(sql("reading a room's clients"))?;
    let rows = stmt.query_map([name], |r| Ok((r.get(0)?, r.get(1)?))).map_err(sql("reading a room's clients"))?;
    for row in rows {
        let (client, op) = row.map_err(sql("reading a room's clients"))?;
        note(client, op);
    }
    let mut stmt = conn
        .prepare_cached("SELECT client, max(op) FROM changes WHERE room = ?1 AND seq > ?2 GROUP BY client")
        .map_err(sql("reading a room's clients"))?;
    let rows = stmt
        .query_map(params![name, snapshot_seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sql("reading a room's clients"))?;
    for row in rows {
        let (client, op) = row.map_err(sql("reading a room's clients"))?;
        note(client, op);
    }
    Ok((last.unwrap_or(0).max(row_seq).max(0) as u64, marks))
}

pub(super) fn append(tx: &Savepoint<'_>, room: &RoomName, append: &Append, now: i64) -> Result<(), StoreError> {
    let Some(last) = append.records.last() else { return Ok(()) };
    let name = room.as_str();
    if let Some(creator) = &append.creator {
        tx.execute(
            "INSERT OR IGNORE INTO rooms (name, created_at, updated_at, opened_at, epoch, creator)
             VALUES (?1, ?2, ?2, ?2, ?3, ?4)",
            params![name, now, append.epoch as i64, creator],
        )
        .map_err(sql("creating a room"))?;
    }
    let mut insert = tx
        .prepare_cached("INSERT INTO changes (room, seq, client, op, change, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .map_err(sql("recording a change"))?;
    for r in &append.records {
        let change = serde_json::to_string(&r.change)
            .map_err(|e| StoreError::Corrupt { room: room.to_string(), detail: format!("encoding: {e}") })?;
        insert
            .execute(params![name, r.seq as i64, r.client.as_str(), r.op as i64, change, now])
            .map_err(sql("recording a change"))?;
    }
    let seq = last.seq as i64;
    if append.refresh || append.snapshot.is_some() || append.creator.is_some() {
        let updated = tx
            .execute(
                "UPDATE rooms SET seq = ?2, shape_count = ?3, updated_at = ?4 WHERE name = ?1",
                params![name, seq, append.shape_count as i64, now],
            )
            .map_err(sql("updating a room"))?;
        if updated == 0 {
            // Every room gets its row with its first change: a log without one is a bug upstream.
            return Err(StoreError::Corrupt {
                room: room.to_string(),
                detail: "changes for a room never created".into(),
            });
        }
    }
    let Some(snapshot) = &append.snapshot else { return Ok(()) };
    tx.execute("UPDATE rooms SET snapshot = ?2, snapshot_seq = ?3 WHERE name = ?1", params![name, snapshot.board, seq])
        .map_err(sql("writing a snapshot"))?;
    // Every snapshot is also a keyframe that history replays from.
    tx.execute(
        "INSERT OR REPLACE INTO keyframes (room, seq, board) VALUES (?1, ?2, ?3)",
        params![name, seq, snapshot.board],
    )
    .map_err(sql("writing a keyframe"))?;
    let mut upsert = tx
        .prepare_cached(
            "INSERT INTO client_ops (room, client, last_op, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (room, client) DO UPDATE
             SET last_op = max(last_op, excluded.last_op), updated_at = excluded.updated_at",
        )
        .map_err(sql("recording a client's last op"))?;
    for (client, op) in &snapshot.marks {
        upsert.execute(params![name, client.as_str(), *op as i64, now]).map_err(sql("recording a client's last op"))?;
    }
    tx.execute("DELETE FROM client_ops WHERE room = ?1 AND updated_at < ?2", params![name, now - CLIENT_OPS_KEPT_MS])
        .map_err(sql("forgetting old clients"))?;
    Ok(())
}

/// Brings a room's row up to date; 0 or 1 rooms affected.
pub(super) fn refresh(
    tx: &Savepoint<'_>,
    room: &RoomName,
    seq: u64,
    shapes: usize,
    now: i64,
) -> Result<usize, StoreError> {
    tx.execute(
        "UPDATE rooms SET seq = max(seq, ?2), shape_count = ?3, updated_at = ?4 WHERE name = ?1",
        params![room.as_str(), seq as i64, shapes as i64, now],
    )
    .map_err(sql("updating a room"))
}

/// Marks a stored room as opened now; 0 or 1 rooms affected.
pub(super) fn opened(tx: &Savepoint<'_>, room: &RoomName, now: i64) -> Result<usize, StoreError> {
    tx.execute("UPDATE rooms SET opened_at = ?2 WHERE name = ?1", params![room.as_str(), now])
        .map_err(sql("noting a room was opened"))
}

/// Stored rooms nobody opened since `cutoff` (ms), a sweep's worth.
pub(super) fn unopened_since(conn: &Connection, cutoff: i64) -> Result<Vec<RoomName>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT name FROM rooms WHERE opened_at < ?1 LIMIT 1000")
        .map_err(sql("finding unopened rooms"))?;
    let rows = stmt.query_map([cutoff], |row| row.get::<_, String>(0)).map_err(sql("finding unopened rooms"))?;
    let mut out = Vec::new();
    for row in rows {
        if let Ok(name) = RoomName::parse(row.map_err(sql("finding unopened rooms"))?) {
            out.push(name);
        }
    }
    Ok(out)
}

/// Deletes `rooms` with everything they hold, unless opened since `cutoff`.
pub(super) fn expire(tx: &Savepoint<'_>, rooms: &[RoomName], cutoff: i64) -> Result<usize, StoreError> {
    let mut deleted = 0;
    for room in rooms {
        let name = room.as_str();
        let gone = tx
            .execute("DELETE FROM rooms WHERE name = ?1 AND opened_at < ?2", params![name, cutoff])
            .map_err(sql("expiring a room"))?;
        if gone > 0 {
            tx.execute("DELETE FROM changes WHERE room = ?1", [name]).map_err(sql("expiring a room's log"))?;
            tx.execute("DELETE FROM keyframes WHERE room = ?1", [name]).map_err(sql("expiring a room's keyframes"))?;
            tx.execute("DELETE FROM room_access WHERE room = ?1", [name]).map_err(sql("expiring a room's access"))?;
            tx.execute("DELETE FROM client_ops WHERE room = ?1", [name]).map_err(sql("expiring a room's clients"))?;
            deleted += 1;
        }
    }
    Ok(deleted)
}
