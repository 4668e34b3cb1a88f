//! A node on its own: nothing crosses, and every answer is this node's.

use std::time::Duration;

use super::traffic::{LiveRooms, PeerError, Peers, Waker};
use sketchboard_core::model::{ClientId, RoomName};

/// A node on its own.
pub(crate) struct Alone;

#[async_trait::async_trait]
impl Peers for Alone {
    fn alone(&self) -> bool {
        true
    }

    fn node(&self) -> &str {
        "alone"
    }

    fn follow(&self, _room: RoomName, _poll: Duration, _wake: Waker) {}

    async fn publish_presence(&self, _room: &RoomName, _said: String) -> Result<(), PeerError> {
        Ok(())
    }

    async fn person_number(&self, _room: &RoomName, _client: &ClientId) -> Result<Option<u32>, PeerError> {
        Ok(None)
    }

    async fn publish_live(&self, _now_ms: i64, _rooms: &LiveRooms) -> Result<(), PeerError> {
        Ok(())
    }

    async fn live_elsewhere(&self, _now_ms: i64) -> Result<LiveRooms, PeerError> {
        Ok(LiveRooms::new())
    }

    async fn retire_node(&self) -> Result<(), PeerError> {
        Ok(())
    }
}
