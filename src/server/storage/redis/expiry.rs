//! Expiry with the rooms in Redis: when each stored room was last opened
//! (`opened` in its meta hash, and `sb:opened`, a sorted set of rooms by that
//! time, to find the old ones without reading every room), and deleting the
//! rooms nobody opened since a cutoff. The `sb_expire` Function checks the
//! time again and deletes in one step, so a node opening the room meanwhile
//! keeps it. Rooms stored by a build that kept no opening time are given one
//! the first time a node sweeps (`backfill`): they count as opened then.

use redis::AsyncCommands;

use super::keys::{failed, keys};
use super::lobby::{CREATORS, LISTED, SHAPES};
use super::store::RedisStore;
use crate::server::redis_link::fcall;
use crate::server::storage::StoreError;
use sketchboard_core::model::RoomName;

/// Rooms by when they were last opened (ms).
const OPENED: &str = "sb:opened";
/// Set once every room stored before opening times were kept has one.
const BACKFILLED: &str = "sb:opened:backfilled";
/// The most rooms one sweep deletes.
const SWEEP: isize = 1000;

impl RedisStore {
    /// Notes that `room`, if it is stored, was opened at `at_ms`.
    pub(super) async fn note_opened(&self, room: &RoomName, at_ms: i64) -> Result<(), StoreError> {
        let _: i64 = self
            .link
            .call(fcall("sb_opened").arg(1).arg(keys(room).meta).arg(at_ms).arg(room.as_str()).arg(OPENED))
            .await
            .map_err(failed("noting that a room was opened"))?;
        Ok(())
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
            let gone: i64 = self
                .link
                .call(
                    fcall("sb_expire")
                        .arg(7)
                        .arg(&k.meta)
                        .arg(&k.log)
                        .arg(&k.ops)
                        .arg(&k.snap)
                        .arg(&k.frames)
                        .arg(&k.access)
                        .arg(&k.people)
                        .arg(cutoff_ms)
                        .arg(room.as_str())
                        .arg(OPENED)
                        .arg(LISTED)
                        .arg(SHAPES)
                        .arg(CREATORS),
                )
                .await
                .map_err(failed("expiring a room"))?;
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
        let mut cursor: u64 = 0;
        loop {
            let (next, metas): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg("sb:{*}:meta")
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(failed("finding rooms without an opening time"))?;
            for meta in metas {
                let room = meta.strip_prefix("sb:{").and_then(|rest| rest.strip_suffix("}:meta"));
                if let Some(room) = room.and_then(|r| RoomName::parse(r).ok()) {
                    let _: i64 = self
                        .link
                        .call(fcall("sb_opened").arg(1).arg(&meta).arg(now_ms).arg(room.as_str()).arg(OPENED).arg("nx"))
                        .await
                        .map_err(failed("giving a room an opening time"))?;
                }
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        let _: () = conn.set(BACKFILLED, 1).await.map_err(failed("noting the opening times are there"))?;
        Ok(())
    }
}
