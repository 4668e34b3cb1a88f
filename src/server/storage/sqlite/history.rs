//! Reading a room's history: its recorded changes with their times, page by
//! page, and the board as it was after any change. A version is rebuilt from
//! the nearest keyframe at or before it (every snapshot is one) plus the
//! changes after that keyframe, with the same `Board::apply` the live board
//! uses; keyframes are at most one snapshot interval apart, so a seek reads
//! a bounded number of changes however long the log.

use rusqlite::{Connection, OptionalExtension, params};

use super::convert::{db_int, sql};
use crate::server::storage::{Head, Logged, MAX_PAGE_BYTES, StoreError, Version};
use sketchboard_core::model::{Board, Change, RoomName};

fn corrupt(room: &RoomName, detail: String) -> StoreError {
    StoreError::Corrupt { room: room.to_string(), detail }
}

fn known_time(at: i64) -> Option<i64> {
    (at > 0).then_some(at)
}

/// The seq of the room's latest recorded change (0 when none).
pub(super) fn head(conn: &Connection, room: &RoomName) -> Result<Head, StoreError> {
    let last: Option<i64> = conn
        .query_row("SELECT max(seq) FROM changes WHERE room = ?1", [room.as_str()], |row| row.get(0))
        .map_err(sql("reading a room's head"))?;
    let row: Option<(i64, i64)> = conn
        .query_row("SELECT seq, epoch FROM rooms WHERE name = ?1", [room.as_str()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()
        .map_err(sql("reading a room's head"))?;
    let (row_seq, epoch) = row.unwrap_or((0, 0));
    Ok(Head { seq: last.unwrap_or(0).max(row_seq).max(0) as u64, epoch: epoch as u64 })
}

/// Up to `limit` changes after `after`, in order; fewer past `MAX_PAGE_BYTES`.
pub(super) fn changes(conn: &Connection, room: &RoomName, after: u64, limit: usize) -> Result<Vec<Logged>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT seq, at, change FROM changes WHERE room = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")
        .map_err(sql("reading a room's history"))?;
    let rows = stmt
        .query_map(params![room.as_str(), db_int(after), db_int(limit)], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?))
        })
        .map_err(sql("reading a room's history"))?;
    let (mut out, mut bytes) = (Vec::new(), 0);
    for row in rows {
        let (seq, at, text) = row.map_err(sql("reading a room's history"))?;
        let change = serde_json::from_str(&text).map_err(|e| corrupt(room, format!("change {seq}: {e}")))?;
        out.push(Logged { seq: seq.max(0) as u64, at_ms: known_time(at), change });
        bytes += text.len();
        if bytes >= MAX_PAGE_BYTES {
            break;
        }
    }
    Ok(out)
}

/// The board after change `seq`; `None` if the room has no such version, or
/// if the changes leading to it are no longer kept (rooms whose log an older
/// build trimmed).
pub(super) fn version(conn: &Connection, room: &RoomName, seq: u64) -> Result<Option<Version>, StoreError> {
    if seq > head(conn, room)?.seq {
        return Ok(None);
    }
    let (mut from, mut board) = keyframe(conn, room, seq)?;
    let mut at_ms = None;
    let mut stmt = conn
        .prepare_cached("SELECT seq, at, change FROM changes WHERE room = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq")
        .map_err(sql("replaying a room's history"))?;
    let rows = stmt
        .query_map(params![room.as_str(), db_int(from), db_int(seq)], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?))
        })
        .map_err(sql("replaying a room's history"))?;
    for row in rows {
        let (s, at, text) = row.map_err(sql("replaying a room's history"))?;
        if s as u64 != from + 1 {
            return Ok(None);
        }
        let change: Change = serde_json::from_str(&text).map_err(|e| corrupt(room, format!("change {s}: {e}")))?;
        board.apply(&change).map_err(|e| corrupt(room, format!("change {s} does not apply: {e}")))?;
        from = s as u64;
        at_ms = known_time(at);
    }
    if from != seq {
        return Ok(None);
    }
    if at_ms.is_none() && seq > 0 {
        // The version is a keyframe itself: its time is its change's.
        at_ms = conn
            .query_row(
                "SELECT at FROM changes WHERE room = ?1 AND seq = ?2",
                params![room.as_str(), db_int(seq)],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map_err(sql("reading a change's time"))?
            .and_then(known_time);
    }
    Ok(Some(Version { seq, at_ms, board }))
}

/// The latest keyframe at or before `seq`: a kept snapshot, the room's
/// current snapshot (rooms snapshotted before keyframes were kept), or the
/// empty board at 0.
fn keyframe(conn: &Connection, room: &RoomName, seq: u64) -> Result<(u64, Board), StoreError> {
    let kept: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, board FROM keyframes WHERE room = ?1 AND seq <= ?2 ORDER BY seq DESC LIMIT 1",
            params![room.as_str(), db_int(seq)],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(sql("reading a keyframe"))?;
    let current: Option<(i64, String)> = conn
        .query_row(
            "SELECT snapshot_seq, snapshot FROM rooms WHERE name = ?1 AND snapshot_seq <= ?2 AND snapshot_seq > 0",
            params![room.as_str(), db_int(seq)],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(sql("reading a snapshot"))?;
    let best = match (kept, current) {
        (Some(k), Some(c)) => Some(if c.0 > k.0 { c } else { k }),
        (k, c) => k.or(c),
    };
    let Some((at, text)) = best else { return Ok((0, Board::new())) };
    let board = serde_json::from_str(&text).map_err(|e| corrupt(room, format!("keyframe {at}: {e}")))?;
    Ok((at.max(0) as u64, board))
}
