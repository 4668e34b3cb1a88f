//! With several nodes, what a room hears from the others through Redis: its
//! Pub/Sub channels (`sb:{R}:tail`, a wake-up whenever its log grows or its
//! view-only link is replaced; `sb:{R}:presence`, presence passed between
//! nodes, never stored) and the person numbers every node shares.

use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;

use super::StoreError;
use super::redis_log::{RedisLog, failed, keys};
use crate::model::{ClientId, RoomName};

/// Why a room is woken (`RedisLog::follow`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    /// Its log may have grown.
    Appended,
    /// Its view-only link was replaced.
    Revoked,
    /// It now hears the other nodes (its Pub/Sub subscription is up).
    Listening,
    /// Another node passed on presence (`presence::relay`).
    Presence(String),
}

impl RedisLog {
    /// Calls `wake` whenever `room`'s log grows (Pub/Sub), and every `poll`
    /// besides (a wake-up lost with a dropped connection is caught up then),
    /// until `wake` returns false; with `Wake::Revoked` when its view-only
    /// link was replaced (on any node).
    pub fn follow(&self, room: RoomName, poll: Duration, wake: impl Fn(Wake) -> bool + Send + 'static) {
        let client = self.client.clone();
        tokio::spawn(async move {
            let k = keys(&room);
            let mut pubsub = match client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(&[&k.tail, &k.presence]).await {
                    Ok(()) => Some(pubsub),
                    Err(e) => {
                        tracing::warn!(%room, error = %e, "could not subscribe to the room's log; polling it");
                        None
                    }
                },
                Err(e) => {
                    tracing::warn!(%room, error = %e, "no Pub/Sub connection to Redis; polling the room's log");
                    None
                }
            };
            if pubsub.is_some() && !wake(Wake::Listening) {
                return;
            }
            loop {
                let heard = async {
                    match pubsub.as_mut() {
                        Some(p) => p.on_message().next().await.map(|m| {
                            let said = m.get_payload::<String>().unwrap_or_default();
                            if m.get_channel_name() == k.presence {
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

    /// Passes a room's presence to the other nodes that have it loaded.
    pub async fn publish_presence(&self, room: &RoomName, said: String) -> Result<(), StoreError> {
        let _: i64 = self.conn().publish(keys(room).presence, said).await.map_err(failed("passing on presence"))?;
        Ok(())
    }

    /// The room's number for `client`'s person, the same on every node: given
    /// the first time they come, and kept.
    pub async fn person_number(&self, room: &RoomName, client: &ClientId) -> Result<u32, StoreError> {
        let k = keys(room);
        let number: u64 = redis::cmd("FCALL")
            .arg("sb_person")
            .arg(2)
            .arg(&k.people)
            .arg(&k.meta)
            .arg(client.as_str())
            .query_async(&mut self.conn())
            .await
            .map_err(failed("numbering a person"))?;
        Ok(u32::try_from(number).unwrap_or(u32::MAX))
    }
}
