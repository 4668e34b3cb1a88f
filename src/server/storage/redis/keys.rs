//! A room's keys in Redis, and Redis's errors as the store's.

use crate::server::redis_link::{RedisError, room_key, wake_channel};
use crate::server::storage::{EngineError, StoreError};
use sketchboard_core::model::RoomName;

pub(super) fn failed(doing: &'static str) -> impl FnOnce(redis::RedisError) -> StoreError {
    move |source| StoreError::Engine { doing, source: EngineError::new(RedisError { doing, source }) }
}

impl From<RedisError> for StoreError {
    fn from(e: RedisError) -> StoreError {
        StoreError::Engine { doing: e.doing, source: EngineError::new(e) }
    }
}

/// A room's keys.
pub(crate) struct Keys {
    pub(crate) log: String,
    pub(crate) meta: String,
    pub(crate) ops: String,
    pub(crate) snap: String,
    pub(crate) frames: String,
    /// Private or not, and the view-only token.
    pub(crate) access: String,
    /// Where its log's growth and replaced links are announced (`redis_link::wake_channel`).
    pub(crate) tail: String,
    /// Each client's person number (kept by `peers`; deleted with the room).
    pub(crate) people: String,
    /// Who owns the room: node, its address and the lease's epoch (`lease.rs`).
    pub(crate) owner: String,
    /// Lives as long as the owner's lease.
    pub(crate) lease: String,
}

pub(crate) fn keys(room: &RoomName) -> Keys {
    let key = |part: &str| room_key(room, part);
    Keys {
        log: key("log"),
        meta: key("meta"),
        ops: key("ops"),
        snap: key("snap"),
        frames: key("frames"),
        access: key("access"),
        tail: wake_channel(room),
        people: key("people"),
        owner: key("owner"),
        lease: key("lease"),
    }
}

/// The key a view-only token is found by.
pub(super) fn token_key(token: &str) -> String {
    format!("sb:token:{{{token}}}")
}
