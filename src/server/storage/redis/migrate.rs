//! `--copy-to-redis`: from one node on SQLite to several on Redis. Copies
//! every room of the database into Redis (its log with the changes' times,
//! its snapshot and keyframes, its epoch, its clients' op marks, its access
//! and view-only token, its lobby entry), then checks each copy: the log
//! entry by entry, and the room as a node would load it from either store.
//!
//! A room's `meta` hash (its head and epoch) is written last, so a copy cut
//! short leaves no room a node would load half: running the command again
//! wipes the partial keys and copies that room anew. Rooms already in Redis
//! are checked, not copied again, so the command is safe to repeat; one that
//! differs from the database is an error (the nodes have moved on from it).

use redis::AsyncCommands;
use rusqlite::{Connection, OptionalExtension, params};

use super::keys::{failed, keys};
use super::store::RedisStore;
use crate::server::storage::sqlite::SqliteStore;
use crate::server::storage::{Access, EngineError, LoadedRoom, RoomStore, StoreError};
use sketchboard_core::model::RoomName;

fn sql(doing: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Engine { doing, source: EngineError::new(source) }
}

/// Changes read from SQLite and written to Redis per round trip.
const CHUNK: i64 = 1000;

/// What a copy did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Copied {
    /// Rooms copied now.
    pub rooms: usize,
    /// Changes copied now.
    pub changes: u64,
    /// Rooms found in Redis already, and checked.
    pub already: usize,
}

/// A room's row, as SQLite keeps it.
struct Row {
    updated_at: i64,
    opened_at: i64,
    shape_count: i64,
    snapshot_seq: i64,
    snapshot: String,
    creator: String,
}

/// One change as stored: seq, client, op, time, the change's JSON.
type Stored = (i64, String, i64, i64, String);

fn rooms(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT name FROM rooms UNION SELECT room FROM room_access ORDER BY 1")
        .map_err(sql("listing the rooms to copy"))?;
    let names = stmt.query_map([], |row| row.get(0)).map_err(sql("listing the rooms to copy"))?;
    names.collect::<Result<_, _>>().map_err(sql("listing the rooms to copy"))
}

fn row(conn: &Connection, room: &str) -> Result<Option<Row>, StoreError> {
    conn.query_row(
        "SELECT updated_at, opened_at, shape_count, snapshot_seq, snapshot, creator FROM rooms WHERE name = ?1",
        [room],
        |r| {
            Ok(Row {
                updated_at: r.get(0)?,
                opened_at: r.get(1)?,
                shape_count: r.get(2)?,
                snapshot_seq: r.get(3)?,
                snapshot: r.get(4)?,
                creator: r.get(5)?,
            })
        },
    )
    .optional()
    .map_err(sql("reading a room to copy"))
}

fn changes(conn: &Connection, room: &str, after: i64) -> Result<Vec<Stored>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT seq, client, op, at, change FROM changes WHERE room = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .map_err(sql("reading a log to copy"))?;
    let rows = stmt
        .query_map(params![room, after, CHUNK], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .map_err(sql("reading a log to copy"))?;
    rows.collect::<Result<_, _>>().map_err(sql("reading a log to copy"))
}

fn keyframes(conn: &Connection, room: &str) -> Result<Vec<(i64, String)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT seq, board FROM keyframes WHERE room = ?1").map_err(sql("reading keyframes"))?;
    let rows = stmt.query_map([room], |r| Ok((r.get(0)?, r.get(1)?))).map_err(sql("reading keyframes"))?;
    rows.collect::<Result<_, _>>().map_err(sql("reading keyframes"))
}

/// Copies every room of `sqlite` into `redis` and checks each copy.
pub(crate) async fn copy_to_redis(sqlite: &SqliteStore, redis: &RedisStore) -> Result<Copied, StoreError> {
    let mut copied = Copied::default();
    for name in sqlite.read(rooms).await? {
        // Names were validated before they were stored.
        let Ok(room) = RoomName::parse(name) else { continue };
        let loaded = sqlite.load_room(&room).await?;
        let access = sqlite.access(&room).await?;
        let present: Option<u64> =
            redis.conn().hget(keys(&room).meta, "epoch").await.map_err(failed("looking for a copied room"))?;
        if present.is_some() {
            copied.already += 1;
        } else {
            copied.changes += copy_room(sqlite, redis, &room, &loaded, access.as_ref()).await?;
            copied.rooms += 1;
        }
        // With an archive (--history-url), Redis keeps the hot tail only, as the
        // nodes will; the check below then reads the rest from the archive.
        redis.archive(&room, None).await?;
        check(sqlite, redis, &room, &loaded, access.as_ref()).await?;
        tracing::info!(%room, seq = loaded.seq, "copied and checked");
    }
    Ok(copied)
}

/// Reads something of one room from SQLite, by the room's name.
async fn read_room<T: Send + 'static>(
    sqlite: &SqliteStore,
    room: &RoomName,
    f: impl FnOnce(&Connection, &str) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    sqlite.read_room(room, move |conn, room| f(conn, room.as_str())).await
}

async fn copy_room(
    sqlite: &SqliteStore,
    redis: &RedisStore,
    room: &RoomName,
    loaded: &LoadedRoom,
    access: Option<&Access>,
) -> Result<u64, StoreError> {
    let k = keys(room);
    let mut conn = redis.conn();
    // What an earlier, interrupted copy may have left.
    let _: () = conn
        .del(&[&k.log, &k.meta, &k.ops, &k.snap, &k.frames, &k.access])
        .await
        .map_err(failed("clearing a partial copy"))?;
    if let Some(access) = access {
        redis.write_access(room, access).await?;
    }
    let Some(row) = read_room(sqlite, room, row).await? else {
        // Only its access was ever stored (made private, or a view link asked for, before any change).
        return Ok(0);
    };
    let (mut after, mut count) = (0, 0);
    loop {
        let chunk = read_room(sqlite, room, move |conn, name| changes(conn, name, after)).await?;
        let Some(last) = chunk.last() else { break };
        after = last.0;
        let mut pipe = redis::pipe();
        for (seq, client, op, at, change) in &chunk {
            let fields = [("client", client.clone()), ("op", op.to_string()), ("at", at.to_string())];
            let fields = fields.into_iter().chain([("change", change.clone())]);
            pipe.xadd(&k.log, format!("{seq}-0"), &fields.collect::<Vec<_>>()).ignore();
        }
        pipe.query_async::<()>(&mut conn).await.map_err(failed("copying a log"))?;
        count += chunk.len() as u64;
    }
    let mut frames = read_room(sqlite, room, keyframes).await?;
    // Older builds kept only the latest snapshot: it is a keyframe too (loading reads the one at the mark).
    if row.snapshot_seq > 0 && !frames.iter().any(|(seq, _)| *seq == row.snapshot_seq) {
        frames.push((row.snapshot_seq, row.snapshot.clone()));
    }
    let mut pipe = redis::pipe();
    for (seq, board) in &frames {
        pipe.hset(&k.frames, seq, board).ignore();
    }
    if row.snapshot_seq > 0 {
        pipe.set(&k.snap, &row.snapshot).ignore();
    }
    let marks: Vec<(&str, u64)> = loaded.last_ops.iter().map(|(c, op)| (c.as_str(), *op)).collect();
    if !marks.is_empty() {
        pipe.hset_multiple(&k.ops, &marks).ignore();
    }
    // Last: with its head and epoch, the room is there for every node.
    let epoch = loaded.epoch.unwrap_or(0);
    pipe.hset_multiple(&k.meta, &[("head", loaded.seq), ("epoch", epoch), ("snap_seq", row.snapshot_seq as u64)])
        .ignore();
    pipe.query_async::<()>(&mut conn).await.map_err(failed("copying a room"))?;
    redis.note_opened(room, row.opened_at).await?;
    if !access.is_some_and(|a| a.private) && loaded.seq > 0 {
        let creator = (!row.creator.is_empty()).then_some(row.creator.as_str());
        redis.list(room, row.updated_at, row.shape_count.max(0) as usize, creator).await?;
    }
    Ok(count)
}

/// The copy of `room` in Redis against the room as SQLite has it.
async fn check(
    sqlite: &SqliteStore,
    redis: &RedisStore,
    room: &RoomName,
    loaded: &LoadedRoom,
    access: Option<&Access>,
) -> Result<(), StoreError> {
    let differs = |what: &str| StoreError::Corrupt {
        room: room.to_string(),
        detail: format!("the copy in Redis differs from the database: {what}"),
    };
    let there = redis.load_room(room).await?;
    let board = |l: &LoadedRoom| serde_json::to_string(&l.board).unwrap_or_default();
    if (there.seq, there.epoch) != (loaded.seq, loaded.epoch) {
        return Err(differs(&format!(
            "seq {} epoch {:?} against {} {:?}",
            there.seq, there.epoch, loaded.seq, loaded.epoch
        )));
    }
    if board(&there) != board(loaded) {
        return Err(differs("the board"));
    }
    if there.last_ops != loaded.last_ops {
        return Err(differs("the clients' op marks"));
    }
    if there.recent != loaded.recent {
        return Err(differs("the recent changes"));
    }
    if redis.access(room).await?.as_ref() != access {
        return Err(differs("who may open it"));
    }
    if !same_log(sqlite, redis, room).await? {
        return Err(differs("the log"));
    }
    Ok(())
}

/// Every stored change of `room` against the log in Redis, entry by entry.
async fn same_log(sqlite: &SqliteStore, redis: &RedisStore, room: &RoomName) -> Result<bool, StoreError> {
    let mut after = 0;
    loop {
        let chunk = read_room(sqlite, room, move |conn, name| changes(conn, name, after)).await?;
        let Some(last) = chunk.last() else { return Ok(true) };
        let entries = redis.read(room, after.max(0) as u64, Some(chunk.len())).await?;
        let same = entries.len() == chunk.len()
            && entries.iter().zip(&chunk).all(|(e, (seq, client, op, at, change))| {
                e.seq == *seq as u64
                    && e.client.as_str() == client
                    && e.op == *op as u64
                    && e.at_ms == *at
                    && serde_json::from_str(change).ok().as_ref() == Some(&e.change)
            });
        if !same {
            return Ok(false);
        }
        after = last.0;
    }
}
