//! With the rooms' logs in Redis: who may do what with a room (private,
//! view-only token), and its history (the changes with their times, any
//! version from the nearest keyframe), so that every node answers the same.
//! The appends and the room as loaded are `log.rs`.

use redis::AsyncCommands;

use super::keys::{failed, keys, token_key};
use super::store::RedisStore;
use crate::server::storage::{Access, Head, Logged, MAX_PAGE_BYTES, StoreError, Version};
use sketchboard_core::model::{Board, RoomName};

/// Log entries read at a time for a page of history.
const READ_AT_ONCE: usize = 50;

impl RedisStore {
    pub(super) async fn read_access(&self, room: &RoomName) -> Result<Option<Access>, StoreError> {
        let fields: std::collections::HashMap<String, String> =
            self.conn().hgetall(keys(room).access).await.map_err(failed("reading a room's access"))?;
        if fields.is_empty() {
            return Ok(None);
        }
        Ok(Some(Access {
            private: fields.get("private").is_some_and(|p| p == "1"),
            view_token: fields.get("view_token").cloned(),
        }))
    }

    /// The room view-only token `token` opens: the one its key names, while
    /// that room's access still names the token (a key left behind by a node
    /// that died between the two writes of `write_access` opens nothing).
    pub(super) async fn token_room(&self, token: &str) -> Result<Option<RoomName>, StoreError> {
        let room: Option<String> =
            self.conn().get(token_key(token)).await.map_err(failed("finding a view-only token's room"))?;
        let Some(room) = room.and_then(|r| RoomName::parse(r).ok()) else { return Ok(None) };
        let named: Option<String> =
            self.conn().hget(keys(&room).access, "view_token").await.map_err(failed("checking a view-only token"))?;
        Ok((named.as_deref() == Some(token)).then_some(room))
    }

    /// Stores a room's access. Its token key is written before the access
    /// names the token, and the replaced token's key deleted after: the token
    /// keys are in slots of their own (found by token), so these are separate
    /// writes, and `token_room` checks the access.
    pub(super) async fn write_access(&self, room: &RoomName, access: &Access) -> Result<(), StoreError> {
        let token = access.view_token.clone().unwrap_or_default();
        if !token.is_empty() {
            let _: () =
                self.conn().set(token_key(&token), room.as_str()).await.map_err(failed("storing a view-only token"))?;
        }
        let private = if access.private { "1" } else { "0" };
        let call = self
            .link
            .fcall("sb_set_access")
            .arg(1)
            .arg(keys(room).access)
            .arg(private)
            .arg(&token)
            .arg(self.link.publish_command())
            .arg(keys(room).tail)
            .clone();
        let (old, replicated): (String, _) =
            self.link.call_durable(&call).await.map_err(failed("storing a room's access"))?;
        replicated.check().map_err(failed("storing a room's access"))?;
        if !old.is_empty() && old != token {
            let _: i64 =
                self.conn().del(token_key(&old)).await.map_err(failed("dropping a replaced view-only token"))?;
        }
        Ok(())
    }

    /// The seq of the room's latest change (0 when none).
    pub(super) async fn read_head(&self, room: &RoomName) -> Result<Head, StoreError> {
        let (seq, epoch): (Option<u64>, Option<u64>) =
            self.conn().hmget(keys(room).meta, &["head", "epoch"]).await.map_err(failed("reading a room's head"))?;
        Ok(Head { seq: seq.unwrap_or(0), epoch: epoch.unwrap_or(0) })
    }

    pub(super) async fn page(&self, room: &RoomName, after: u64, limit: usize) -> Result<Vec<Logged>, StoreError> {
        // A few at a time, to stop at `MAX_PAGE_BYTES` without reading far past it.
        let (mut out, mut bytes, mut from) = (Vec::new(), 0, after);
        while out.len() < limit && bytes < MAX_PAGE_BYTES {
            let entries = self.read(room, from, Some((limit - out.len()).min(READ_AT_ONCE))).await?;
            let Some(last) = entries.last().map(|e| e.seq) else { break };
            for e in entries {
                bytes += e.bytes;
                out.push(Logged { seq: e.seq, at_ms: (e.at_ms > 0).then_some(e.at_ms), change: e.change });
                if bytes >= MAX_PAGE_BYTES {
                    break;
                }
            }
            from = last;
        }
        Ok(out)
    }

    /// The board after change `seq`: the nearest keyframe at or before it,
    /// and the changes after that keyframe; `None` past the head.
    pub(super) async fn board_at(&self, room: &RoomName, seq: u64) -> Result<Option<Version>, StoreError> {
        if seq > self.read_head(room).await?.seq {
            return Ok(None);
        }
        let k = keys(room);
        let corrupt = |detail: String| StoreError::Corrupt { room: room.to_string(), detail };
        let frames: Vec<u64> = self.conn().hkeys(&k.frames).await.map_err(failed("reading a room's keyframes"))?;
        let mut from = frames.into_iter().filter(|f| *f <= seq).max().unwrap_or(0);
        let mut text: Option<String> = None;
        let id: Option<String> = match &self.archiving {
            Some(_) => self.conn().hget(&k.meta, "archive").await.map_err(failed("reading a room's archive id"))?,
            None => None,
        };
        if let (Some(archiving), Some(id)) = (&self.archiving, id) {
            // Older keyframes are in the archive; a later one here is nearer.
            if let Some((at, board)) = archiving.archive.keyframe_at_or_before(room, &id, seq).await?
                && at > from
            {
                (from, text) = (at, Some(board));
            }
        }
        let mut board: Board = if from > 0 {
            if text.is_none() {
                text = self.conn().hget(&k.frames, from).await.map_err(failed("reading a keyframe"))?;
            }
            let text = text.ok_or_else(|| corrupt(format!("keyframe {from} is missing")))?;
            serde_json::from_str(&text).map_err(|e| corrupt(format!("keyframe {from}: {e}")))?
        } else {
            Board::new()
        };
        // The change `seq` itself too when it is the keyframe, for its time.
        let entries = self.read_range(room, from.saturating_sub(1), Some(seq), None).await?;
        let mut at_ms = None;
        let mut at = from;
        for e in entries {
            if e.seq > from {
                if e.seq != at + 1 {
                    return Ok(None);
                }
                board.apply(&e.change).map_err(|err| corrupt(format!("change {} does not apply: {err}", e.seq)))?;
                at = e.seq;
            }
            if e.seq == seq {
                at_ms = (e.at_ms > 0).then_some(e.at_ms);
            }
        }
        Ok((at == seq).then_some(Version { seq, at_ms, board }))
    }
}
