//! The other nodes serving the same rooms, and what passes between them that
//! is never stored: a room's wake-ups (another node appended to its log, or
//! replaced its view-only link), its presence, each person's number (so a
//! person has one colour on every node), and the lobby's live counts.
//!
//! `Peers` is that traffic, whoever carries it: `Alone` for a node on its own
//! (nothing crosses; every answer is this node's), `RedisPeers` for
//! nodes sharing a Redis (Pub/Sub and a few keys). The room, the lobby, the
//! registry and presence hold a `Peers` and never ask which one it is; where
//! their work differs with company, they ask `alone()`.

mod alone;
mod redis_peers;
mod traffic;

pub(crate) use alone::Alone;
pub(crate) use redis_peers::RedisPeers;
pub(crate) use traffic::{HEARTBEAT, LiveRooms, Shared, Wake};
