//! Archiving a room's log (`storage::archive`): its owner writes the changes
//! older than the hot tail (`--hot-tail`) to PostgreSQL in segments, with the
//! keyframes among them, and only then marks them archived and trims them
//! from Redis (`sb_archived`, fenced like an append). Reads of the log join
//! the archive and the tail (`log.rs`), so nothing else notices.

use redis::AsyncCommands;

use super::keys::{failed, keys};
use super::store::RedisStore;
use crate::server::storage::archive::{Archive, SEGMENT};
use crate::server::storage::{LogEntry, StoreError};
use sketchboard_core::model::RoomName;

impl RedisStore {
    /// After an append that left the room's log at `head`, archived up to
    /// `archived`: archives in the background once a segment is due.
    pub(super) fn archive_when_due(&self, room: &RoomName, head: u64, archived: u64, lease: Option<u64>) {
        if self.archiving.as_ref().is_some_and(|a| a.due(head, archived)) {
            self.archive_in_background(room, lease);
        }
    }

    /// Archives `room` beyond its hot tail in a task of its own, unless that is under way.
    pub(super) fn archive_in_background(&self, room: &RoomName, lease: Option<u64>) {
        let Some(archiving) = &self.archiving else { return };
        if archiving.whole.lock().unwrap_or_else(|p| p.into_inner()).contains(room)
            || !archiving.busy.lock().unwrap_or_else(|p| p.into_inner()).insert(room.clone())
        {
            return;
        }
        let (store, room) = (self.clone(), room.clone());
        tokio::spawn(async move {
            if let Err(e) = store.archive(&room, lease).await {
                tracing::warn!(%room, error = %e, "could not archive the room's log (it stays in Redis meanwhile)");
            }
            if let Some(archiving) = &store.archiving {
                archiving.busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&room);
            }
        });
    }

    /// Archives `room`'s log up to its hot tail; answers the seq it is archived up to.
    pub(crate) async fn archive(&self, room: &RoomName, lease: Option<u64>) -> Result<u64, StoreError> {
        let Some(archiving) = self.archiving.clone() else { return Ok(0) };
        let k = keys(room);
        let (head, mark, snap): (Option<u64>, Option<u64>, Option<u64>) = self
            .conn()
            .hmget(&k.meta, &["head", "archived", "snap_seq"])
            .await
            .map_err(failed("reading what of a room is archived"))?;
        let (head, mark) = (head.unwrap_or(0), mark.unwrap_or(0));
        let upto = head.saturating_sub(archiving.hot_tail);
        if upto <= mark {
            return Ok(mark);
        }
        // The room's archive id, made by its first archiving (kept with its
        // keys, so deleted with them: a room made anew gets another).
        // A number, as every field of the meta hash is (loading reads them as such).
        let fresh = (rand::random::<u64>() >> 1 | 1).to_string();
        let _: bool =
            self.conn().hset_nx(&k.meta, "archive", &fresh).await.map_err(failed("naming a room's archive"))?;
        let id: String = self.conn().hget(&k.meta, "archive").await.map_err(failed("naming a room's archive"))?;
        // What lies beyond the mark is never trimmed: all of it is here.
        let (_, entries) = self.read_tail(room, mark, Some(upto), None, false).await?;
        if mark == 0 && entries.first().is_some_and(|e| e.seq > 1) {
            let first = entries.first().map_or(0, |e| e.seq);
            tracing::info!(%room, first, "the room's log begins after its first change (copied from an older build): it stays whole in Redis");
            archiving.whole.lock().unwrap_or_else(|p| p.into_inner()).insert(room.clone());
            return Ok(0);
        }
        if entries.first().map(|e| e.seq) != Some(mark + 1) || entries.len() as u64 != upto - mark {
            let detail = format!("the log from {} to {upto} is not all there", mark + 1);
            return Err(StoreError::Corrupt { room: room.to_string(), detail });
        }
        // Segments start at the mark, every SEGMENT changes: a retry after a
        // crash writes the same segments (a longer last one replaces a shorter).
        for segment in entries.chunks(SEGMENT as usize) {
            archiving.archive.put_segment(room, &id, segment).await?;
        }
        let frames: Vec<u64> = self.conn().hkeys(&k.frames).await.map_err(failed("reading a room's keyframes"))?;
        let old: Vec<u64> = frames.into_iter().filter(|f| *f <= upto && Some(*f) != snap).collect();
        for seq in &old {
            let board: Option<String> = self.conn().hget(&k.frames, seq).await.map_err(failed("reading a keyframe"))?;
            if let Some(board) = board {
                archiving.archive.put_keyframe(room, &id, *seq, &board).await?;
            }
        }
        let (node, epoch) = self.fence(lease);
        let mut call = self.link.fcall("sb_archived");
        call.arg(4).arg(&k.meta).arg(&k.log).arg(&k.frames).arg(&k.owner).arg(node).arg(epoch).arg(upto).arg(&old);
        let reply: Vec<redis::Value> = self.link.call(&call).await.map_err(failed("trimming an archived log"))?;
        let word = reply.first().and_then(|v| redis::from_redis_value_ref::<String>(v).ok());
        let number = reply.get(1).and_then(|v| redis::from_redis_value_ref::<u64>(v).ok());
        match (word.as_deref(), number) {
            (Some("ok"), Some(mark)) => {
                tracing::debug!(%room, archived = mark, keyframes = old.len(), "archived the room's log");
                Ok(mark)
            }
            (Some("fenced"), _) => {
                let owner =
                    reply.get(1).and_then(|v| redis::from_redis_value_ref::<String>(v).ok()).unwrap_or_default();
                Err(StoreError::Fenced { owner })
            }
            _ => Err(StoreError::Corrupt { room: room.to_string(), detail: format!("sb_archived answered {reply:?}") }),
        }
    }
}

impl RedisStore {
    /// `read_range` with an archive: the archived part from it, the rest from
    /// the log, each step reading the log with its archive mark in one step
    /// (the owner may archive and trim meanwhile; the mark only grows).
    pub(super) async fn read_joined(
        &self,
        archive: &Archive,
        room: &RoomName,
        after: u64,
        upto: Option<u64>,
        limit: Option<usize>,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let (end, most) = (upto.unwrap_or(u64::MAX), limit.unwrap_or(usize::MAX));
        let (mut out, mut at) = (Vec::new(), after);
        loop {
            let (archived, tail) = self.read_tail(room, at, upto, Some(most - out.len()), true).await?;
            if archived.upto <= at {
                out.extend(tail);
                return Ok(out);
            }
            let until = end.min(archived.upto);
            let archived = archive.entries(room, &archived.id, at, until, most - out.len()).await?;
            let reached = archived.last().map_or(at, |e| e.seq);
            if archived.first().is_some_and(|e| e.seq != at + 1)
                || (reached != until && out.len() + archived.len() < most)
            {
                let detail = format!("the archive holds {} to {reached}, not {} to {until}", at + 1, at + 1);
                return Err(StoreError::Corrupt { room: room.to_string(), detail });
            }
            out.extend(archived);
            at = reached;
            if out.len() >= most || at >= end {
                return Ok(out);
            }
        }
    }
}
