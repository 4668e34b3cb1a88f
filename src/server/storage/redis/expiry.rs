//! Expiry with the rooms in Redis: when each stored room was last opened
//! (`opened` in its meta hash, and `sb:opened`, a sorted set of rooms by that
//! time, to find the old ones without reading every room), and deleting the
//! rooms nobody opened since a cutoff. The `sb_expire` Function checks the
//! time again and deletes in one step, so a node opening the room meanwhile
//! keeps it. Rooms stored by a build that kept no opening time are given one
//! the first time a node sweeps (`backfill`): they count as opened then.

use redis::AsyncCommands;

use super::keys::{failed, keys, token_key};
use super::lobby::{CREATORS, LISTED, SHAPES};
use super::store::RedisStore;
use crate::server::storage::StoreError;
use sketchboard_core::model::RoomName;

/// Rooms by when they were last opened (ms).
const OPENED: &str = "sb:opened";
/// Set once every room stored before opening times were kept has one.
const BACKFILLED: &str = "sb:opened:backfilled";
/// The most rooms one sweep deletes.
const SWEEP: isize = 1000;

impl RedisStore {
    /// Notes that `room`, if it is stored, was opened at `at_ms` (with `nx`,
    /// only if it has no opening time yet), and indexes it by that time.
    async fn mark_opened(&self, room: &RoomName, at_ms: i64, nx: bool) -> Result<(), StoreError> {
        let call =
            self.link.fcall("sb_opened").arg(1).arg(keys(room).meta).arg(at_ms).arg(if nx { "nx" } else { "" }).clone();
        let opened: String = self.link.call(&call).await.map_err(failed("noting that a room was opened"))?;
        // The index spans rooms, in a slot of its own: written after the room's own time.
        if let Ok(opened) = opened.parse::<i64>() {
            let _: i64 =
                self.conn().zadd(OPENED, room.as_str(), opened).await.map_err(failed("indexing a room's opening"))?;
        }
        Ok(())
    }

    /// Notes that `room`, if it is stored, was opened at `at_ms`.
    pub(super) async fn note_opened(&self, room: &RoomName, at_ms: i64) -> Result<(), StoreError> {
        self.mark_opened(room, at_ms, false).await
    }

    /// Deletes rooms not opened since `cutoff_ms`, but for those in `keep`.
    pub(super) async fn expire_unopened(&self, cutoff_ms: i64, keep: &[RoomName]) -> Result<usize, StoreError> {
        self.backfill(cutoff_ms).await?;
        let old: Vec<String> = self
            .conn()
            .zrangebyscore_limit(OPENED, "-inf", format!("({cutoff_ms}"), 0, SWEEP)
            .await
            .map_err(failed("finding rooms nobody opened"))?;
        let mut deleted = 0;
        for name in old {
            let Ok(room) = RoomName::parse(name.clone()) else {
                // Never stored by a node (names are checked first): not a room.
                let _: i64 = self.conn().zrem(OPENED, &name).await.map_err(failed("forgetting a bad name"))?;
                continue;
            };
            if keep.contains(&room) {
                continue;
            }
            let k = keys(&room);
            let call = self
                .link
                .fcall("sb_expire")
                .arg(9)
                .arg(&k.meta)
                .arg(&k.log)
                .arg(&k.ops)
                .arg(&k.snap)
                .arg(&k.frames)
                .arg(&k.access)
                .arg(&k.people)
                .arg(&k.owner)
                .arg(&k.lease)
                .arg(cutoff_ms)
                .clone();
            let (gone, opened, token): (i64, String, String) =
                self.link.call(&call).await.map_err(failed("expiring a room"))?;
            // What spans rooms (the index, the lobby, token keys) follows the room's own keys.
            let mut pipe = redis::pipe();
            match opened.parse::<i64>() {
                Ok(opened) if gone == 0 => pipe.zadd(OPENED, room.as_str(), opened).ignore(),
                _ => pipe.zrem(OPENED, room.as_str()).ignore(),
            };
            if gone == 1 {
                pipe.zrem(LISTED, room.as_str()).ignore();
                pipe.hdel(SHAPES, room.as_str()).ignore();
                pipe.hdel(CREATORS, room.as_str()).ignore();
                if !token.is_empty() {
                    pipe.del(token_key(&token)).ignore();
                }
            }
            let _: () = pipe.query_async(&mut self.conn()).await.map_err(failed("forgetting an expired room"))?;
            if let (1, Some(archiving)) = (gone, &self.archiving) {
                // After the room's keys: a crash between leaves rows no room reads
                // (a room made anew gets another archive id), swept next time.
                archiving.archive.forget(&room).await?;
            }
            deleted += usize::try_from(gone).unwrap_or(0);
        }
        Ok(deleted)
    }

    /// Once: every stored room without an opening time gets one (`now_ms`, the
    /// time of the first sweep that sees it), so none escapes expiry for good.
    async fn backfill(&self, now_ms: i64) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let done: bool = conn.exists(BACKFILLED).await.map_err(failed("checking the opening times"))?;
        if done {
            return Ok(());
        }
        // A SCAN walks one server's keys: on a cluster, each primary's in turn.
        let primaries = conn.primaries().await.map_err(failed("finding the Redis primaries"))?;
        for primary in primaries {
            let mut cursor: u64 = 0;
            loop {
                let scan =
                    redis::cmd("SCAN").arg(cursor).arg("MATCH").arg("sb:{*}:meta").arg("COUNT").arg(1000).clone();
                let scanned = conn.on(&primary, &scan).await;
                let scanned = scanned.and_then(|reply| Ok(redis::from_redis_value::<(u64, Vec<String>)>(reply)?));
                let (next, metas) = scanned.map_err(failed("finding rooms without an opening time"))?;
                for meta in metas {
                    let room = meta.strip_prefix("sb:{").and_then(|rest| rest.strip_suffix("}:meta"));
                    if let Some(room) = room.and_then(|r| RoomName::parse(r).ok()) {
                        self.mark_opened(&room, now_ms, true).await?;
                    }
                }
                cursor = next;
                if cursor == 0 {
                    break;
                }
            }
        }
        let _: () = conn.set(BACKFILLED, 1).await.map_err(failed("noting the opening times are there"))?;
        Ok(())
    }
}
