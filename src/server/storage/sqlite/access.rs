//! Who may do what with a room (`Access`), in the `room_access` table: a
//! row from the moment a room is made private or someone asks for its
//! view-only link, before the room stores any change.

use rusqlite::{Connection, OptionalExtension, Savepoint, params};

use super::convert::sql;
use crate::server::storage::{Access, StoreError};
use sketchboard_core::model::RoomName;

pub(super) fn get(conn: &Connection, room: &RoomName) -> Result<Option<Access>, StoreError> {
    conn.prepare_cached("SELECT private, view_token FROM room_access WHERE room = ?1")
        .and_then(|mut stmt| {
            stmt.query_row([room.as_str()], |row| {
                Ok(Access { private: row.get::<_, i64>(0)? != 0, view_token: row.get(1)? })
            })
            .optional()
        })
        .map_err(sql("reading a room's access"))
}

/// The room a view-only token opens, if any.
pub(super) fn room_for_token(conn: &Connection, token: &str) -> Result<Option<RoomName>, StoreError> {
    let name: Option<String> = conn
        .prepare_cached("SELECT room FROM room_access WHERE view_token = ?1")
        .and_then(|mut stmt| stmt.query_row([token], |row| row.get(0)).optional())
        .map_err(sql("finding a view-only token's room"))?;
    Ok(name.and_then(|n| RoomName::parse(n).ok()))
}

/// Sets a room's access (making its row if it has none). `private` only ever
/// turns on: a private room stays private.
pub(super) fn set(tx: &Savepoint<'_>, room: &RoomName, access: &Access, now: i64) -> Result<usize, StoreError> {
    tx.execute(
        "INSERT INTO room_access (room, private, view_token, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (room) DO UPDATE SET private = max(private, excluded.private), view_token = excluded.view_token",
        params![room.as_str(), i64::from(access.private), access.view_token, now],
    )
    .map_err(sql("storing a room's access"))
}
