//! Listening to a room's channels (its wake-ups and its presence). On one
//! Redis, a Pub/Sub connection of the room's own, as always. On a cluster,
//! sharded Pub/Sub (`SSUBSCRIBE`, `SPUBLISH`): a room's channels carry its
//! hash tag, so they live on the primary of its slot and a message goes to
//! that primary's subscribers only, instead of over the whole cluster's bus as
//! plain Pub/Sub does. A node keeps one RESP3 connection for all its rooms'
//! subscriptions (the client subscribes at the right primary, and again after
//! a failover or a resharding), and hands each message to the room that asked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use redis::aio::PubSub;
use redis::cluster_async::ClusterConnection;
use redis::{PushInfo, PushKind, RedisResult};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// A message heard: its channel and what it said.
pub(crate) type Heard = (String, String);

/// Where a node's sharded subscriptions arrive, by channel.
type Routes = Arc<Mutex<HashMap<String, UnboundedSender<Heard>>>>;

/// A node's sharded subscriptions, on a cluster; cheap to clone.
#[derive(Clone)]
pub(crate) struct Shards {
    conn: ClusterConnection,
    routes: Routes,
}

impl Shards {
    /// Subscriptions over `conn`, whose client sends what it hears to `pushed`.
    pub(crate) fn new(conn: ClusterConnection, mut pushed: UnboundedReceiver<PushInfo>) -> Shards {
        let routes = Routes::default();
        let (to, again) = (routes.clone(), conn.clone());
        tokio::spawn(async move {
            while let Some(push) = pushed.recv().await {
                let mut data = push.data.into_iter().map(|v| redis::from_redis_value::<String>(v).ok());
                let Some(Some(channel)) = data.next() else { continue };
                let routed = to.lock().ok().and_then(|routes| routes.get(&channel).cloned());
                match (push.kind, routed) {
                    (PushKind::SMessage, Some(room)) => {
                        if let Some(Some(said)) = data.next() {
                            let _ = room.send((channel, said));
                        }
                    }
                    // Redis ends a shard channel's subscriptions when its slot
                    // moves to another primary; a room still listening
                    // subscribes again, and the client finds the new primary.
                    (PushKind::SUnsubscribe, Some(_)) => {
                        let mut again = again.clone();
                        tokio::spawn(async move {
                            if let Err(e) = again.ssubscribe(&channel).await {
                                tracing::warn!(%channel, error = %e, "could not subscribe again after a slot moved");
                            }
                        });
                    }
                    _ => {}
                }
            }
        });
        Shards { conn, routes }
    }
}

/// One room's subscription; dropping it unsubscribes.
pub(crate) enum Listener {
    Single(PubSub),
    Sharded { heard: UnboundedReceiver<Heard>, sender: UnboundedSender<Heard>, channels: Vec<String>, shards: Shards },
}

impl Listener {
    /// Subscribes to `channels` (all of one room: one slot).
    pub(crate) async fn single(client: &redis::Client, channels: &[String]) -> RedisResult<Listener> {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channels).await?;
        Ok(Listener::Single(pubsub))
    }

    /// Subscribes to `channels` (all of one room: one slot) on the cluster.
    pub(crate) async fn sharded(shards: &Shards, channels: &[String]) -> RedisResult<Listener> {
        let (sender, heard) = unbounded_channel();
        if let Ok(mut routes) = shards.routes.lock() {
            for channel in channels {
                routes.insert(channel.clone(), sender.clone());
            }
        }
        let listener = Listener::Sharded { heard, sender, channels: channels.to_vec(), shards: shards.clone() };
        shards.conn.clone().ssubscribe(channels).await?;
        Ok(listener)
    }

    /// The next message, or `None` when the subscription is lost.
    pub(crate) async fn next(&mut self) -> Option<Heard> {
        match self {
            Listener::Single(pubsub) => {
                let message = pubsub.on_message().next().await?;
                Some((message.get_channel_name().to_owned(), message.get_payload::<String>().unwrap_or_default()))
            }
            Listener::Sharded { heard, .. } => heard.recv().await,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let Listener::Sharded { sender, channels, shards, .. } = self else { return };
        let mut gone = Vec::new();
        if let Ok(mut routes) = shards.routes.lock() {
            for channel in channels.drain(..) {
                // A newer listener of the same room (the room loaded again) keeps its route.
                if routes.get(&channel).is_some_and(|s| s.same_channel(sender)) {
                    routes.remove(&channel);
                    gone.push(channel);
                }
            }
        }
        if !gone.is_empty() {
            let (mut conn, routes) = (shards.conn.clone(), shards.routes.clone());
            tokio::spawn(async move {
                // Unless the room subscribed again meanwhile.
                let gone: Vec<String> = match routes.lock() {
                    Ok(routes) => gone.into_iter().filter(|c| !routes.contains_key(c)).collect(),
                    Err(_) => gone,
                };
                // (With no channels, SUNSUBSCRIBE would drop every room's.)
                if gone.is_empty() {
                    return;
                }
                if let Err(e) = conn.sunsubscribe(&gone).await {
                    tracing::debug!(error = %e, "could not unsubscribe a room's channels");
                }
            });
        }
    }
}
