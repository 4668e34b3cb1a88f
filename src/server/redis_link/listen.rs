//! Listening to a room's channels (its wake-ups and its presence). On one
//! Redis, a Pub/Sub connection of the room's own, as always. On a cluster,
//! sharded Pub/Sub (`SSUBSCRIBE`, `SPUBLISH`): a room's channels carry its
//! hash tag, so they live on the primary of its slot and a message goes to
//! that primary's subscribers only, instead of over the whole cluster's bus as
//! plain Pub/Sub does. A node keeps one RESP3 connection for all its rooms'
//! subscriptions (the client subscribes at the right primary, and again after
//! a failover), and hands each message to the room that asked.
//!
//! One task makes every subscription and unsubscription of the node, in the
//! order they were asked for, so a room loaded again just as its last
//! listener goes is never left unsubscribed by the goodbye arriving late.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use redis::aio::PubSub;
use redis::cluster_async::ClusterConnection;
use redis::{PushInfo, PushKind, RedisResult};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::oneshot;

/// A message heard: its channel and what it said.
pub(crate) type Heard = (String, String);

/// Where a node's sharded subscriptions arrive, by channel.
type Routes = Arc<Mutex<HashMap<String, UnboundedSender<Heard>>>>;

/// What the subscribing task is asked to do.
enum Order {
    /// Route `channels` to `to` and subscribe to them; answer when done.
    Listen { channels: Vec<String>, to: UnboundedSender<Heard>, done: oneshot::Sender<RedisResult<()>> },
    /// Unsubscribe from those of `channels` still routed to `to`.
    Forget { channels: Vec<String>, to: UnboundedSender<Heard> },
    /// Redis ended `channel`'s subscription (its slot moved): subscribe again if it is still routed.
    Again { channel: String },
}

/// A node's sharded subscriptions, on a cluster; cheap to clone.
#[derive(Clone)]
pub(crate) struct Shards {
    orders: UnboundedSender<Order>,
}

impl Shards {
    /// Subscriptions over `conn`, whose client sends what it hears to `pushed`.
    pub(crate) fn new(conn: ClusterConnection, pushed: UnboundedReceiver<PushInfo>) -> Shards {
        let routes = Routes::default();
        let (orders, asked) = unbounded_channel();
        tokio::spawn(hand_out(pushed, routes.clone(), orders.clone()));
        tokio::spawn(subscribe(conn, asked, routes));
        Shards { orders }
    }
}

/// Hands each message to the room listening to its channel.
async fn hand_out(mut pushed: UnboundedReceiver<PushInfo>, routes: Routes, orders: UnboundedSender<Order>) {
    while let Some(push) = pushed.recv().await {
        let mut data = push.data.into_iter().map(|v| redis::from_redis_value::<String>(v).ok());
        let Some(Some(channel)) = data.next() else { continue };
        let routed = routes.lock().ok().and_then(|routes| routes.get(&channel).cloned());
        match (push.kind, routed) {
            (PushKind::SMessage, Some(room)) => {
                if let Some(Some(said)) = data.next() {
                    let _ = room.send((channel, said));
                }
            }
            // Redis ends a shard channel's subscriptions when its slot moves
            // to another primary; a room still listening subscribes again,
            // and the client finds the new primary.
            (PushKind::SUnsubscribe, Some(_)) => {
                let _ = orders.send(Order::Again { channel });
            }
            _ => {}
        }
    }
}

/// Carries out the orders, one at a time.
async fn subscribe(mut conn: ClusterConnection, mut asked: UnboundedReceiver<Order>, routes: Routes) {
    while let Some(order) = asked.recv().await {
        match order {
            Order::Listen { channels, to, done } => {
                if let Ok(mut routes) = routes.lock() {
                    for channel in &channels {
                        routes.insert(channel.clone(), to.clone());
                    }
                }
                let _ = done.send(conn.ssubscribe(&channels).await);
            }
            Order::Forget { channels, to } => {
                let mut gone = Vec::new();
                if let Ok(mut routes) = routes.lock() {
                    for channel in channels {
                        // A newer listener of the same room (loaded again) keeps its route.
                        if routes.get(&channel).is_some_and(|s| s.same_channel(&to)) {
                            routes.remove(&channel);
                            gone.push(channel);
                        }
                    }
                }
                // (With no channels, SUNSUBSCRIBE would drop every room's.)
                if !gone.is_empty()
                    && let Err(e) = conn.sunsubscribe(&gone).await
                {
                    tracing::debug!(error = %e, "could not unsubscribe a room's channels");
                }
            }
            Order::Again { channel } => {
                let routed = routes.lock().is_ok_and(|routes| routes.contains_key(&channel));
                if routed && let Err(e) = conn.ssubscribe(&channel).await {
                    tracing::warn!(%channel, error = %e, "could not subscribe again after a slot moved");
                }
            }
        }
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
        let (done, subscribed) = oneshot::channel();
        let listen = Order::Listen { channels: channels.to_vec(), to: sender.clone(), done };
        let listener = Listener::Sharded { heard, sender, channels: channels.to_vec(), shards: shards.clone() };
        let gone = || redis::RedisError::from((redis::ErrorKind::Io, "the node's subscriptions have stopped"));
        shards.orders.send(listen).map_err(|_| gone())?;
        subscribed.await.map_err(|_| gone())??;
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
        let forget = Order::Forget { channels: std::mem::take(channels), to: sender.clone() };
        let _ = shards.orders.send(forget);
    }
}
