//! Rooms' history in PostgreSQL (`--history-url`): the archive behind a
//! Redis log that keeps only its hot tail (docs/operations.md, "History in
//! PostgreSQL"). A room's owner writes its older changes here in immutable
//! segments, and its older keyframes, then trims them from Redis
//! (`redis/archiving.rs`); reads of the log and of versions join the archive
//! and the tail. Every write is an idempotent insert keyed by room and
//! sequence (a retry after a crash writes the same rows again, or nothing).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls};

use super::{EngineError, LogEntry, StoreError};
use sketchboard_core::model::{ClientId, RoomName};

/// Made by whichever node starts first: under a lock, since PostgreSQL's
/// `CREATE TABLE IF NOT EXISTS` run by several sessions at once can fail.
const SCHEMA: &str = "
BEGIN;
SELECT pg_advisory_xact_lock(7012001);
CREATE TABLE IF NOT EXISTS sb_segments (
    room text NOT NULL,
    -- The room's archive id: a room deleted and made anew gets another.
    archive text NOT NULL,
    first_seq bigint NOT NULL,
    last_seq bigint NOT NULL,
    -- The segment's entries, a JSON array of [seq, client, op, at_ms, change, by]
    -- (TOAST compresses large ones).
    entries text NOT NULL,
    PRIMARY KEY (room, archive, first_seq)
);
CREATE TABLE IF NOT EXISTS sb_keyframes (
    room text NOT NULL,
    archive text NOT NULL,
    seq bigint NOT NULL,
    board text NOT NULL,
    PRIMARY KEY (room, archive, seq)
);
COMMIT;";

/// The archive: one PostgreSQL connection (it pipelines concurrent queries),
/// made again when it breaks.
#[derive(Clone)]
pub(crate) struct Archive {
    url: String,
    client: Arc<tokio::sync::Mutex<Option<Arc<Client>>>>,
}

fn failed(doing: &'static str) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |source| StoreError::Engine { doing, source: EngineError::new(source) }
}

fn corrupt(room: &RoomName, detail: String) -> StoreError {
    StoreError::Corrupt { room: room.to_string(), detail }
}

/// The most changes in one archived segment.
pub(crate) const SEGMENT: u64 = 256;

/// The archive and how much of each room's log stays in the live store
/// (Redis: `redis/archiving.rs` does the archiving).
pub(crate) struct Archiving {
    pub(crate) archive: Archive,
    /// Changes kept in Redis behind each room's head.
    pub(crate) hot_tail: u64,
    /// Rooms being archived now (one archiving per room at a time).
    pub(crate) busy: Mutex<HashSet<RoomName>>,
    /// Rooms whose log stays whole in Redis: copied from a build that kept
    /// only its later changes (`redis/migrate.rs`), so it begins after seq 1, and
    /// the archive keeps logs from their first change.
    pub(crate) whole: Mutex<HashSet<RoomName>>,
}

impl Archiving {
    pub(crate) fn new(archive: Archive, hot_tail: u64) -> Archiving {
        Archiving { archive, hot_tail: hot_tail.max(1), busy: Mutex::default(), whole: Mutex::default() }
    }

    /// Whether the log beyond the tail is worth a segment.
    pub(crate) fn due(&self, head: u64, archived: u64) -> bool {
        head.saturating_sub(archived) >= self.hot_tail + self.hot_tail.min(SEGMENT)
    }
}

/// One archived entry as stored: [seq, client, op, at_ms, change, by].
type Stored = (u64, String, u64, i64, serde_json::Value, Option<u32>);

impl Archive {
    /// Connects to the archive at `url` and makes its tables if missing.
    pub(crate) async fn open(url: &str) -> Result<Archive, StoreError> {
        let archive = Archive { url: url.to_owned(), client: Arc::default() };
        archive.client().await?.batch_execute(SCHEMA).await.map_err(failed("making the archive's tables"))?;
        Ok(archive)
    }

    async fn client(&self) -> Result<Arc<Client>, StoreError> {
        let mut held = self.client.lock().await;
        if let Some(client) = held.as_ref().filter(|c| !c.is_closed()) {
            return Ok(client.clone());
        }
        let (client, connection) =
            tokio_postgres::connect(&self.url, NoTls).await.map_err(failed("connecting to the archive"))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "the connection to the archive ended");
            }
        });
        let client = Arc::new(client);
        *held = Some(client.clone());
        Ok(client)
    }

    /// Keeps `entries` (in order, gapless) as one segment of `room`'s log
    /// under its archive `id`.
    pub(crate) async fn put_segment(&self, room: &RoomName, id: &str, entries: &[LogEntry]) -> Result<(), StoreError> {
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else { return Ok(()) };
        let stored: Vec<Stored> = entries
            .iter()
            .map(|e| {
                let change =
                    serde_json::to_value(&e.change).map_err(|x| corrupt(room, format!("change {}: {x}", e.seq)))?;
                Ok((e.seq, e.client.as_str().to_owned(), e.op, e.at_ms, change, e.by))
            })
            .collect::<Result<_, StoreError>>()?;
        let text = serde_json::to_string(&stored).map_err(|e| corrupt(room, format!("a segment: {e}")))?;
        // A segment is never changed, but one a crashed attempt cut shorter is
        // completed by the retry (the log's entries never change).
        let sql = "INSERT INTO sb_segments (room, archive, first_seq, last_seq, entries) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (room, archive, first_seq) DO UPDATE SET last_seq = EXCLUDED.last_seq,
                   entries = EXCLUDED.entries WHERE sb_segments.last_seq < EXCLUDED.last_seq";
        let (first, last) = (seq_param(first.seq), seq_param(last.seq));
        let params: [&(dyn ToSql + Sync); 5] = [&room.as_str(), &id, &first, &last, &text];
        self.client().await?.execute(sql, &params).await.map_err(failed("archiving a segment"))?;
        Ok(())
    }

    /// Keeps a keyframe (the board as JSON after change `seq`).
    pub(crate) async fn put_keyframe(
        &self,
        room: &RoomName,
        id: &str,
        seq: u64,
        board: &str,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO sb_keyframes (room, archive, seq, board) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (room, archive, seq) DO NOTHING";
        let params: [&(dyn ToSql + Sync); 4] = [&room.as_str(), &id, &seq_param(seq), &board];
        self.client().await?.execute(sql, &params).await.map_err(failed("archiving a keyframe"))?;
        Ok(())
    }

    /// Up to `limit` archived entries after `after` and up to `upto`, in order.
    pub(crate) async fn entries(
        &self,
        room: &RoomName,
        id: &str,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StoreError> {
        // A few segments at a time (each holds up to `SEGMENT` entries), until the page is full.
        let sql = "SELECT last_seq, entries FROM sb_segments
                   WHERE room = $1 AND archive = $4 AND last_seq > $2 AND first_seq <= $3 ORDER BY first_seq LIMIT 4";
        let client = self.client().await?;
        let (mut out, mut from) = (Vec::new(), after);
        while out.len() < limit && from < upto {
            let params: [&(dyn ToSql + Sync); 4] = [&room.as_str(), &seq_param(from), &seq_param(upto), &id];
            let rows = client.query(sql, &params).await.map_err(failed("reading the archive"))?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                from = row.get::<_, i64>(0) as u64;
                let text: String = row.get(1);
                let stored: Vec<Stored> =
                    serde_json::from_str(&text).map_err(|e| corrupt(room, format!("a segment: {e}")))?;
                for (seq, client, op, at_ms, change, by) in stored {
                    if seq <= after || seq > upto || out.len() >= limit {
                        continue;
                    }
                    let bytes = change.to_string().len();
                    let client =
                        ClientId::parse(client).map_err(|e| corrupt(room, format!("entry {seq}: client: {e}")))?;
                    let change =
                        serde_json::from_value(change).map_err(|e| corrupt(room, format!("entry {seq}: {e}")))?;
                    out.push(LogEntry { seq, client, op, at_ms, change, bytes, by });
                }
            }
        }
        Ok(out)
    }

    /// The archived keyframe at or before `seq` that is latest, if any.
    pub(crate) async fn keyframe_at_or_before(
        &self,
        room: &RoomName,
        id: &str,
        seq: u64,
    ) -> Result<Option<(u64, String)>, StoreError> {
        let sql = "SELECT seq, board FROM sb_keyframes WHERE room = $1 AND archive = $3 AND seq <= $2
                   ORDER BY seq DESC LIMIT 1";
        let row = self
            .client()
            .await?
            .query_opt(sql, &[&room.as_str(), &seq_param(seq), &id])
            .await
            .map_err(failed("reading an archived keyframe"))?;
        Ok(row.map(|r| (r.get::<_, i64>(0) as u64, r.get(1))))
    }

    /// Deletes everything archived of `room`, under every archive id (it expired).
    pub(crate) async fn forget(&self, room: &RoomName) -> Result<(), StoreError> {
        let client = self.client().await?;
        for sql in ["DELETE FROM sb_segments WHERE room = $1", "DELETE FROM sb_keyframes WHERE room = $1"] {
            client.execute(sql, &[&room.as_str()]).await.map_err(failed("forgetting an expired room's archive"))?;
        }
        Ok(())
    }
}

/// A seq as PostgreSQL's bigint (seqs stay far below 2^63).
fn seq_param(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}
