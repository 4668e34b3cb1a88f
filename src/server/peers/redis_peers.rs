//! Nodes sharing a Redis: what passes between them goes through it, never
//! stored. Per room, Pub/Sub channels: the wake-up channel the storage's
//! Functions publish on (`redis_link::wake_channel`: the log grew, or the
//! view-only link was replaced) and `sb:{R}:presence`, presence passed
//! between nodes; and `sb:{R}:people`, each client's person number, given by
//! the `sb_person` Function (`functions.lua`). Across rooms, the lobby's live
//! counts: every node keeps `sb:live:{node}` (room → "members shapes" for its
//! loaded public rooms), rewritten every `HEARTBEAT` and expiring after
//! `LIVE_FOR`, and its heartbeat in `sb:nodes`; a node that dies drops out of
//! the counts by itself.

use std::collections::HashMap;
use std::time::Duration;

use redis::AsyncCommands;

use super::traffic::{LiveRooms, PeerError, Peers, Wake, Waker};
use crate::server::redis_link::{RedisLink, failed, room_key, wake_channel};
use sketchboard_core::model::{ClientId, RoomName};

/// The Functions library of what crosses nodes (the person numbers).
const LIBRARY: &str = include_str!("functions.lua");

/// How long a node's live counts stand without a heartbeat.
const LIVE_FOR: Duration = Duration::from_secs(4);
const NODES: &str = "sb:nodes";

fn live_key(node: &str) -> String {
    format!("sb:live:{node}")
}

/// The other nodes, through the Redis they share; cheap to clone.
#[derive(Clone)]
pub(crate) struct RedisPeers {
    link: RedisLink,
}

impl RedisPeers {
    /// The peers of this node on `link`'s Redis, with their Functions loaded.
    pub(crate) async fn new(link: RedisLink) -> Result<RedisPeers, PeerError> {
        link.load_functions(LIBRARY).await?;
        Ok(RedisPeers { link })
    }
}

#[async_trait::async_trait]
impl Peers for RedisPeers {
    fn alone(&self) -> bool {
        false
    }

    fn node(&self) -> &str {
        self.link.node()
    }

    fn follow(&self, room: RoomName, poll: Duration, wake: Waker) {
        let link = self.link.clone();
        tokio::spawn(async move {
            let presence = room_key(&room, "presence");
            let mut pubsub = match link.listen(&[wake_channel(&room), presence.clone()]).await {
                Ok(listener) => Some(listener),
                Err(e) => {
                    tracing::warn!(%room, error = %e, "could not subscribe to the room's channels; polling its log");
                    None
                }
            };
            if pubsub.is_some() && !wake(Wake::Listening) {
                return;
            }
            loop {
                let heard = async {
                    match pubsub.as_mut() {
                        Some(p) => p.next().await.map(|(channel, said)| {
                            if channel == presence {
                                Wake::Presence(said)
                            } else if said == "revoked" {
                                Wake::Revoked
                            } else {
                                Wake::Appended
                            }
                        }),
                        None => std::future::pending().await,
                    }
                };
                let why = tokio::select! {
                    heard = heard => heard.unwrap_or_else(|| {
                        tracing::warn!(%room, "lost the room's Pub/Sub connection; polling its log");
                        pubsub = None;
                        Wake::Appended
                    }),
                    () = tokio::time::sleep(poll) => Wake::Appended,
                };
                if !wake(why) {
                    return;
                }
            }
        });
    }

    async fn publish_presence(&self, room: &RoomName, said: String) -> Result<(), PeerError> {
        let publish = self.link.publish(&room_key(room, "presence"), &said);
        let _: i64 = publish.query_async(&mut self.link.conn()).await.map_err(failed("passing on presence"))?;
        Ok(())
    }

    async fn person_number(&self, room: &RoomName, client: &ClientId) -> Result<Option<u32>, PeerError> {
        let number: u64 = self
            .link
            .call(
                self.link
                    .fcall("sb_person")
                    .arg(2)
                    .arg(room_key(room, "people"))
                    .arg(room_key(room, "meta"))
                    .arg(client.as_str()),
            )
            .await
            .map_err(failed("numbering a person"))?;
        Ok(Some(u32::try_from(number).unwrap_or(u32::MAX)))
    }

    async fn publish_live(&self, now_ms: i64, rooms: &LiveRooms) -> Result<(), PeerError> {
        let (node, key) = (self.node(), live_key(self.node()));
        // One transaction on the node's own key (one slot), then its heartbeat.
        let mut pipe = redis::pipe();
        pipe.atomic().del(&key).ignore();
        let counts: Vec<(&str, String)> =
            rooms.iter().map(|(room, (members, shapes))| (room.as_str(), format!("{members} {shapes}"))).collect();
        if !counts.is_empty() {
            pipe.hset_multiple(&key, &counts).ignore();
            pipe.pexpire(&key, LIVE_FOR.as_millis() as i64).ignore();
        }
        let mut conn = self.link.conn();
        pipe.query_async::<()>(&mut conn).await.map_err(failed("publishing a node's live rooms"))?;
        let _: i64 = conn.zadd(NODES, node, now_ms).await.map_err(failed("publishing a node's heartbeat"))?;
        Ok(())
    }

    async fn live_elsewhere(&self, now_ms: i64) -> Result<LiveRooms, PeerError> {
        let mut conn = self.link.conn();
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

    async fn retire_node(&self) -> Result<(), PeerError> {
        let mut pipe = redis::pipe();
        pipe.del(live_key(self.node())).ignore().zrem(NODES, self.node()).ignore();
        pipe.query_async::<()>(&mut self.link.conn()).await.map_err(failed("retiring a node"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_heartbeat_is_well_within_how_long_live_counts_stand() {
        assert!(crate::server::peers::HEARTBEAT * 2 < super::LIVE_FOR);
    }
}
