//! What passes between the nodes, whoever carries it: the `Peers` trait and
//! the wake-ups and counts it carries.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use crate::server::redis_link::RedisError as PeerError;
use sketchboard_core::model::{ClientId, RoomName};

/// How often a node tells the others its live counts (and that it is alive).
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(1);

/// People and shapes per room, as the lobby counts them.
pub(crate) type LiveRooms = HashMap<RoomName, (u32, u32)>;

/// Why a room is woken (`Peers::follow`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Wake {
    /// Its log may have grown.
    Appended,
    /// Its view-only link was replaced.
    Revoked,
    /// It now hears the other nodes (its subscription is up).
    Listening,
    /// Another node passed on presence (`presence::relay`).
    Presence(String),
}

/// What a room is told of the other nodes, until it returns false.
pub(crate) type Waker = Box<dyn Fn(Wake) -> bool + Send + Sync>;

/// The way to the other nodes; shared by the whole server.
pub(crate) type Shared = Arc<dyn Peers>;

#[async_trait::async_trait]
pub(crate) trait Peers: Send + Sync + 'static {
    /// Whether this node serves its rooms alone: nothing crosses, and no
    /// other node appends to their logs.
    fn alone(&self) -> bool;

    /// This node's name among the nodes.
    fn node(&self) -> &str;

    /// Calls `wake` whenever another node appends to `room`'s log or replaces
    /// its view-only link, or passes on its presence, and every `poll`
    /// besides (a wake-up lost with a dropped connection is caught up then),
    /// until `wake` returns false. Alone, nothing ever wakes a room.
    fn follow(&self, room: RoomName, poll: Duration, wake: Waker);

    /// Passes `room`'s presence to the other nodes that have it loaded.
    async fn publish_presence(&self, room: &RoomName, said: String) -> Result<(), PeerError>;

    /// The room's number for `client`'s person, the same on every node;
    /// `None` alone (the room numbers its own people).
    async fn person_number(&self, room: &RoomName, client: &ClientId) -> Result<Option<u32>, PeerError>;

    /// Tells the other nodes this node's live counts (and that it is alive).
    async fn publish_live(&self, now_ms: i64, rooms: &LiveRooms) -> Result<(), PeerError>;

    /// The live counts of every other node that is alive, added up per room.
    async fn live_elsewhere(&self, now_ms: i64) -> Result<LiveRooms, PeerError>;

    /// This node is stopping: its rooms no longer count.
    async fn retire_node(&self) -> Result<(), PeerError>;
}
