//! With several nodes: the lobby's stored rooms, from Redis, so that every
//! node lists the same rooms: `sb:lobby` (a sorted set, room → when it last
//! changed, in ms), `sb:lobby:shapes` and `sb:lobby:creators` (hashes, room →
//! its shape count, and the pseudonym of the address that made it). Written
//! when the room's row would be in SQLite: with its first change, its
//! snapshots, once a minute while it changes, and when it retires. (Who is in
//! which room now is not stored: `peers` passes those counts between nodes.)
//!
//! These keys span rooms, so they are not hash-tagged and are written apart
//! from the room's append: a lobby a moment behind is fine, a change held up
//! by the lobby is not.

use redis::AsyncCommands;

use super::keys::{failed, keys};
use super::store::RedisStore;
use crate::server::storage::listing::pick_listed;
use crate::server::storage::{LobbyRoom, StoreError};
use sketchboard_core::model::RoomName;

pub(super) const LISTED: &str = "sb:lobby";
pub(super) const SHAPES: &str = "sb:lobby:shapes";
pub(super) const CREATORS: &str = "sb:lobby:creators";

impl RedisStore {
    /// Lists (or relists) a room that changed at `at_ms`; its creator is kept from the first time.
    pub(super) async fn list(
        &self,
        room: &RoomName,
        at_ms: i64,
        shapes: usize,
        creator: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.zadd(LISTED, room.as_str(), at_ms).ignore();
        pipe.hset(SHAPES, room.as_str(), shapes).ignore();
        if let Some(creator) = creator {
            pipe.hset_nx(CREATORS, room.as_str(), creator).ignore();
        }
        pipe.query_async::<()>(&mut self.conn()).await.map_err(failed("listing a room in the lobby"))
    }

    /// Takes a room out of the lobby (it became private).
    pub(super) async fn unlist(&self, room: &RoomName) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.zrem(LISTED, room.as_str()).ignore();
        pipe.hdel(SHAPES, room.as_str()).ignore();
        pipe.hdel(CREATORS, room.as_str()).ignore();
        pipe.query_async::<()>(&mut self.conn()).await.map_err(failed("taking a room out of the lobby"))
    }

    /// Rooms changed since `since_ms`, latest first, at most `per_creator`
    /// from one address, `limit` in all; never a private one.
    pub(super) async fn listed(
        &self,
        since_ms: i64,
        per_creator: usize,
        limit: usize,
    ) -> Result<Vec<LobbyRoom>, StoreError> {
        let mut conn = self.conn();
        // Enough candidates that a few prolific creators cannot crowd out the rest.
        let names: Vec<String> = conn
            .zrevrangebyscore_limit(LISTED, "+inf", since_ms, 0, (limit * 10) as isize)
            .await
            .map_err(failed("listing the lobby's rooms"))?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let (shapes, creators): (Vec<Option<u64>>, Vec<Option<String>>) = redis::pipe()
            .cmd("HMGET")
            .arg(SHAPES)
            .arg(&names)
            .cmd("HMGET")
            .arg(CREATORS)
            .arg(&names)
            .query_async(&mut conn)
            .await
            .map_err(failed("reading the lobby's rooms"))?;
        let mut private = redis::pipe();
        for name in &names {
            // A name that does not parse is not listed: `pick_listed` drops it.
            private.hget(RoomName::parse(name.clone()).map_or_else(|_| String::new(), |r| keys(&r).access), "private");
        }
        let private: Vec<Option<String>> =
            private.query_async(&mut conn).await.map_err(failed("reading the lobby's rooms' access"))?;
        let rows =
            names.into_iter().enumerate().filter(|(i, _)| private.get(*i).is_some_and(|p| p.as_deref() != Some("1")));
        let rows = rows.map(|(i, name)| {
            let shapes = shapes.get(i).copied().flatten().unwrap_or(0);
            let creator = creators.get(i).cloned().flatten().unwrap_or_default();
            (name, shapes, creator)
        });
        Ok(pick_listed(rows, per_creator, limit))
    }

    /// Forgets rooms that changed before `since_ms`, a bounded number at a time.
    /// (The listing reads only newer ones: this only keeps the lobby's keys small.)
    pub(super) async fn forget_older(&self, since_ms: i64) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let old: Vec<String> = conn
            .zrangebyscore_limit(LISTED, "-inf", format!("({since_ms}"), 0, 1000)
            .await
            .map_err(failed("finding the lobby's old rooms"))?;
        if old.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.zrem(LISTED, &old).ignore().hdel(SHAPES, &old).ignore().hdel(CREATORS, &old).ignore();
        pipe.query_async::<()>(&mut conn).await.map_err(failed("forgetting the lobby's old rooms"))
    }
}
