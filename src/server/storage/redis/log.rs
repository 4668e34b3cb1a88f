//! A room's log in Redis: appending by compare-and-set (the `sb_append`
//! Function refuses stale ops and a moved head atomically, so any node may
//! append after validating against the head it holds, and the order is the
//! log's), reading it back, keeping snapshots, and loading the room.

use std::collections::HashMap;

use redis::AsyncCommands;
use redis::streams::StreamRangeReply;

use super::keys::{failed, keys};
use super::store::RedisStore;
use crate::server::storage::recent::RECENT_CHANGES;
use crate::server::storage::{LoadedRoom, LogEntry, Recent, Record, StoreError};
use sketchboard_core::model::{Board, ClientId, RoomName};

/// How far a room's log is archived (`archiving.rs`): up to `upto`, under
/// the room's archive `id` (made with its first archiving, so a room deleted
/// and made anew never reads an earlier one's archive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Archived {
    pub(crate) upto: u64,
    pub(crate) id: String,
}

/// What appending a batch of records did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Appended {
    /// All recorded: the log's head and the room's epoch now, and how far the log is archived.
    Recorded { head: u64, epoch: u64, archived: u64 },
    /// Record `index` (from 0) has an op at or below its client's mark: nothing was recorded.
    Stale { index: usize, mark: u64 },
    /// The head is no longer the one expected: nothing was recorded.
    Conflict { head: u64 },
    /// The log no longer holds the caller's change at the expected head (it
    /// lost changes): nothing was recorded.
    Rewound { head: u64 },
    /// The caller is no longer the room's owner (`lease.rs`); `owner` (a
    /// node's name) is: nothing was recorded.
    Fenced { owner: String },
}

impl RedisStore {
    /// Appends `records` (numbered from `expected_head + 1`) if this node
    /// still owns the room under `lease` (where it holds one), the log's head
    /// is still `expected_head`, the log still holds `tip` (the client and op
    /// of the caller's change at that head, when it knows it) there, and no
    /// record's op is stale. `epoch` is kept with the room's first change;
    /// `at_ms` is stored with every record.
    pub(super) async fn append_records(
        &self,
        room: &RoomName,
        expected_head: u64,
        tip: Option<&(ClientId, u64)>,
        (epoch, lease): (u64, Option<u64>),
        at_ms: i64,
        records: &[Record],
    ) -> Result<Appended, StoreError> {
        let k = keys(room);
        let mut call = self.link.fcall("sb_append");
        call.arg(4).arg(&k.log).arg(&k.meta).arg(&k.ops).arg(&k.owner);
        call.arg(expected_head).arg(epoch).arg(at_ms).arg(self.link.publish_command()).arg(&k.tail);
        match tip {
            Some((client, op)) => call.arg(client.as_str()).arg(*op),
            None => call.arg("").arg(""),
        };
        let (node, lease) = self.fence(lease);
        call.arg(node).arg(lease);
        for r in records {
            let change = serde_json::to_string(&r.change)
                .map_err(|e| StoreError::Corrupt { room: room.to_string(), detail: format!("encoding: {e}") })?;
            call.arg(r.client.as_str()).arg(r.op).arg(change).arg(r.by.map(|by| by.to_string()).unwrap_or_default());
        }
        let (reply, replicated): (Vec<redis::Value>, _) =
            self.link.call_durable(&call).await.map_err(failed("appending to a room's log"))?;
        let corrupt =
            || StoreError::Corrupt { room: room.to_string(), detail: format!("sb_append answered {reply:?}") };
        let word = |i: usize| reply.get(i).and_then(|v| redis::from_redis_value_ref::<String>(v).ok());
        let number = |i: usize| reply.get(i).and_then(|v| redis::from_redis_value_ref::<u64>(v).ok());
        match word(0).as_deref() {
            Some("ok") => {
                // Written; acknowledged only once where it must be.
                replicated.check().map_err(failed("appending to a room's log"))?;
                let (head, epoch) = (number(1).ok_or_else(corrupt)?, number(2).ok_or_else(corrupt)?);
                Ok(Appended::Recorded { head, epoch, archived: number(3).unwrap_or(0) })
            }
            Some("rewound") => Ok(Appended::Rewound { head: number(1).ok_or_else(corrupt)? }),
            Some("stale") => Ok(Appended::Stale {
                index: number(1).ok_or_else(corrupt)? as usize,
                mark: number(2).ok_or_else(corrupt)?,
            }),
            Some("conflict") => Ok(Appended::Conflict { head: number(1).ok_or_else(corrupt)? }),
            Some("fenced") => Ok(Appended::Fenced { owner: word(1).ok_or_else(corrupt)? }),
            _ => Err(corrupt()),
        }
    }

    /// Up to `limit` entries after `after` (all of them without a limit), in order.
    pub(crate) async fn read(
        &self,
        room: &RoomName,
        after: u64,
        limit: Option<usize>,
    ) -> Result<Vec<LogEntry>, StoreError> {
        self.read_range(room, after, None, limit).await
    }

    /// Entries after `after` and up to `upto` (the end without one), at most
    /// `limit`: from the archive where it holds them (`archiving.rs`), and the log.
    pub(super) async fn read_range(
        &self,
        room: &RoomName,
        after: u64,
        upto: Option<u64>,
        limit: Option<usize>,
    ) -> Result<Vec<LogEntry>, StoreError> {
        match &self.archiving {
            Some(archiving) => self.read_joined(&archiving.archive, room, after, upto, limit).await,
            None => Ok(self.read_tail(room, after, upto, limit, false).await?.1),
        }
    }

    /// Entries after `after` and up to `upto` (the end without one), at most
    /// `limit`, that the log in Redis holds; with `marked`, read in one step
    /// with how far the log is archived (`Archived::default()` otherwise):
    /// what lies beyond that mark is all there, what lies before it may be trimmed.
    pub(super) async fn read_tail(
        &self,
        room: &RoomName,
        after: u64,
        upto: Option<u64>,
        limit: Option<usize>,
        marked: bool,
    ) -> Result<(Archived, Vec<LogEntry>), StoreError> {
        // Nothing follows the last seq there can be (and `after + 1` must not wrap to 0).
        let Some(first) = after.checked_add(1) else { return Ok((Archived::default(), Vec::new())) };
        let k = keys(room);
        let (mut conn, start) = (self.conn(), format!("{first}-0"));
        let end = upto.map_or("+".to_owned(), |seq| format!("{seq}-0"));
        let mut pipe = redis::pipe();
        if marked {
            pipe.atomic().cmd("HMGET").arg(&k.meta).arg("archived").arg("archive");
        }
        match limit {
            // Redis counts in a signed 64-bit number.
            Some(limit) => pipe.xrange_count(&k.log, start, end, limit.min(i64::MAX as usize)),
            None => pipe.xrange(&k.log, start, end),
        };
        let ((mark, id), reply): ((Option<u64>, Option<String>), StreamRangeReply) = if marked {
            pipe.query_async(&mut conn).await
        } else {
            pipe.query_async::<(StreamRangeReply,)>(&mut conn).await.map(|(reply,)| ((None, None), reply))
        }
        .map_err(failed("reading a room's log"))?;
        let archived = Archived { upto: mark.unwrap_or(0), id: id.unwrap_or_default() };
        let corrupt = |detail: String| StoreError::Corrupt { room: room.to_string(), detail };
        let mut out = Vec::with_capacity(reply.ids.len());
        for entry in reply.ids {
            let seq = entry.id.split('-').next().and_then(|s| s.parse().ok());
            let field = |name: &str| entry.get::<String>(name);
            let (Some(seq), Some(client), Some(op), Some(at), Some(change)) =
                (seq, field("client"), field("op"), field("at"), field("change"))
            else {
                return Err(corrupt(format!("log entry {} is incomplete", entry.id)));
            };
            let client = ClientId::parse(client).map_err(|e| corrupt(format!("entry {seq}: client: {e}")))?;
            let text_len = change.len();
            let change = serde_json::from_str(&change).map_err(|e| corrupt(format!("entry {seq}: {e}")))?;
            let op = op.parse().map_err(|e| corrupt(format!("entry {seq}: op: {e}")))?;
            let by = field("by").and_then(|by| by.parse().ok());
            out.push(LogEntry { seq, client, op, at_ms: at.parse().unwrap_or(0), change, bytes: text_len, by });
        }
        Ok((archived, out))
    }

    /// Keeps `board` (JSON) as the room's snapshot as of `seq`, and as a
    /// keyframe, unless a later snapshot is already kept.
    pub(super) async fn snapshot(&self, room: &RoomName, seq: u64, board: &str) -> Result<bool, StoreError> {
        let k = keys(room);
        let kept: i64 = self
            .link
            .call(self.link.fcall("sb_snapshot").arg(3).arg(&k.meta).arg(&k.snap).arg(&k.frames).arg(seq).arg(board))
            .await
            .map_err(failed("keeping a room's snapshot"))?;
        Ok(kept == 1)
    }

    /// The room as the log has it: its latest snapshot with every change
    /// after it applied, the last `RECENT_CHANGES` changes, and the marks.
    pub(super) async fn load(&self, room: &RoomName) -> Result<LoadedRoom, StoreError> {
        let k = keys(room);
        let mut conn = self.conn();
        let corrupt = |detail: String| StoreError::Corrupt { room: room.to_string(), detail };
        // The head and the marks in one step (MULTI): marks read after the
        // head could hold ops another node appended beyond it, and a room
        // holding such a mark refuses as stale, or tells a tab it need not
        // re-send, changes its board does not show yet.
        let (meta, marks): (HashMap<String, u64>, HashMap<String, u64>) = redis::pipe()
            .atomic()
            .hgetall(&k.meta)
            .hgetall(&k.ops)
            .query_async(&mut conn)
            .await
            .map_err(failed("reading a room's head and clients"))?;
        let Some(&epoch) = meta.get("epoch") else { return Ok(LoadedRoom::default()) };
        let head = meta.get("head").copied().unwrap_or(0);
        let snap_seq = meta.get("snap_seq").copied().unwrap_or(0);
        // The keyframe at the mark just read, not the latest snapshot: another
        // node may keep a newer one meanwhile, and keyframes never change.
        let snapshot: Option<String> = if snap_seq > 0 {
            conn.hget(&k.frames, snap_seq).await.map_err(failed("reading a room's snapshot"))?
        } else {
            None
        };
        let mut board: Board = match &snapshot {
            Some(text) => serde_json::from_str(text).map_err(|e| corrupt(format!("snapshot: {e}")))?,
            None if snap_seq > 0 => return Err(corrupt(format!("the snapshot at {snap_seq} is missing"))),
            None => Board::new(),
        };
        let first = snap_seq.min(head.saturating_sub(RECENT_CHANGES as u64));
        // Up to the head just read: other nodes may be appending meanwhile.
        let entries = self.read_range(room, first, Some(head), None).await?;
        let mut recent = Recent::default();
        let mut tip = None;
        let mut seq = first;
        let mut log_bytes_since_snapshot = 0;
        for e in entries {
            // A log copied from an older build's database may begin later than
            // `first`, behind the snapshot (`--copy-to-redis`): that costs only
            // catching clients up from before it. From the snapshot on it is gapless.
            if e.seq != seq + 1 && e.seq <= snap_seq + 1 && seq < snap_seq {
                recent.clear();
            } else if e.seq != seq + 1 {
                return Err(corrupt(format!("the log jumps from {seq} to {}", e.seq)));
            }
            if e.seq > snap_seq {
                board.apply(&e.change).map_err(|err| corrupt(format!("change {} does not apply: {err}", e.seq)))?;
                log_bytes_since_snapshot += e.bytes;
            }
            tip = Some((e.seq, e.client, e.op));
            recent.push(e.change);
            seq = e.seq;
        }
        let seq = seq.max(snap_seq);
        if seq != head {
            return Err(corrupt(format!("the log ends at {seq} but its head is {head}")));
        }
        let mut last_ops = HashMap::with_capacity(marks.len());
        for (client, op) in marks {
            let client = ClientId::parse(client).map_err(|e| corrupt(format!("client id: {e}")))?;
            last_ops.insert(client, op);
        }
        Ok(LoadedRoom {
            board,
            seq: head,
            since_snapshot: head - snap_seq,
            recent,
            last_ops,
            epoch: Some(epoch),
            snapshot_bytes: snapshot.map_or(0, |s| s.len()),
            log_bytes_since_snapshot,
            tip: tip.filter(|(at, ..)| *at == head),
        })
    }
}
