//! With several nodes: the lobby, from Redis, so that every node lists the
//! same rooms with the same counts. Two halves:
//!
//! - the stored rooms: `sb:lobby` (a sorted set, room → when it last changed,
//!   in ms), `sb:lobby:shapes` and `sb:lobby:creators` (hashes, room → its
//!   shape count, and the pseudonym of the address that made it). Written
//!   when the room's row would be in SQLite: with its first change, its
//!   snapshots, once a minute while it changes, and when it retires;
//! - who is where now: every node keeps `sb:live:{node}` (room → "members
//!   shapes" for its loaded public rooms), rewritten every `HEARTBEAT` and
//!   expiring after `LIVE_FOR`, and its heartbeat in `sb:nodes`; a node that
//!   dies drops out of the counts by itself.
//!
//! These keys span rooms, so they are not hash-tagged and are written apart
//! from the room's append: a lobby a moment behind is fine, a change held up
//! by the lobby is not.

use std::collections::HashMap;
use std::time::Duration;

use redis::AsyncCommands;

use super::redis_log::{RedisLog, failed, keys};
use super::{RoomSummary, StoreError, pick_listed};
use crate::model::RoomName;

/// How often a node rewrites its live counts.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// How long a node's live counts stand without a heartbeat.
const LIVE_FOR: Duration = Duration::from_secs(4);

const LISTED: &str = "sb:lobby";
const SHAPES: &str = "sb:lobby:shapes";
const CREATORS: &str = "sb:lobby:creators";
const NODES: &str = "sb:nodes";

fn live_key(node: &str) -> String {
    format!("sb:live:{node}")
}

/// People and shapes per room, as the lobby counts them.
pub type LiveRooms = HashMap<RoomName, (u32, u32)>;

impl RedisLog {
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

    /// As `Store::list_rooms`: rooms changed since `since_ms`, latest first,
    /// at most `per_creator` from one address, `limit` in all; never a private one.
    pub async fn list_rooms(
        &self,
        since_ms: i64,
        per_creator: usize,
        limit: usize,
    ) -> Result<Vec<RoomSummary>, StoreError> {
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
    pub async fn forget_older(&self, since_ms: i64) -> Result<(), StoreError> {
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

    /// Replaces this node's live counts (and says it is alive).
    pub async fn publish_live(&self, now_ms: i64, rooms: &LiveRooms) -> Result<(), StoreError> {
        let (node, key) = (self.node(), live_key(self.node()));
        let mut pipe = redis::pipe();
        pipe.atomic().del(&key).ignore();
        let counts: Vec<(&str, String)> =
            rooms.iter().map(|(room, (members, shapes))| (room.as_str(), format!("{members} {shapes}"))).collect();
        if !counts.is_empty() {
            pipe.hset_multiple(&key, &counts).ignore();
            pipe.pexpire(&key, LIVE_FOR.as_millis() as i64).ignore();
        }
        pipe.zadd(NODES, node, now_ms).ignore();
        pipe.query_async::<()>(&mut self.conn()).await.map_err(failed("publishing a node's live rooms"))
    }

    /// The live counts of every other node that is alive, added up per room.
    pub async fn live_elsewhere(&self, now_ms: i64) -> Result<LiveRooms, StoreError> {
        let mut conn = self.conn();
        let alive_since = now_ms - LIVE_FOR.as_millis() as i64;
        let _: () = conn.zrembyscore(NODES, "-inf", alive_since).await.map_err(failed("forgetting dead nodes"))?;
        let nodes: Vec<String> = conn.zrange(NODES, 0, -1).await.map_err(failed("listing the nodes"))?;
        let others: Vec<&String> = nodes.iter().filter(|n| n.as_str() != self.node()).collect();
        if others.is_empty() {
            return Ok(LiveRooms::new());
        }
        let mut pipe = redis::pipe();
        for other in &others {
            pipe.hgetall(live_key(other));
        }
        let counts: Vec<HashMap<String, String>> =
            pipe.query_async(&mut conn).await.map_err(failed("reading other nodes' live rooms"))?;
        let mut live = LiveRooms::new();
        for (room, said) in counts.into_iter().flatten() {
            let Ok(room) = RoomName::parse(room) else { continue };
            let mut numbers = said.split(' ').map(|n| n.parse::<u32>().unwrap_or(0));
            let (members, shapes) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
            let entry = live.entry(room).or_insert((0, 0));
            entry.0 = entry.0.saturating_add(members);
            entry.1 = entry.1.max(shapes);
        }
        Ok(live)
    }

    /// This node is stopping: its rooms no longer count.
    pub async fn retire_node(&self) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.del(live_key(self.node())).ignore().zrem(NODES, self.node()).ignore();
        pipe.query_async::<()>(&mut self.conn()).await.map_err(failed("retiring a node"))
    }
}
