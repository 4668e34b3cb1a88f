//! The room actor: one tokio task per active room that owns the room's
//! state and its members, and carries out what the state decides.
//!
//! Every change to a room passes through this task, which is what orders them:
//! the room's state (`state/`, no I/O) judges a change against the board and
//! gives it the room's next sequence number; the actor records it, and only
//! then sends it to every member (the author's copy is its confirmation).
//! Commands that arrive together are handled as one batch with one storage
//! commit, so recording costs one fsync per batch, not one per change. A room
//! with no members for `idle_grace` retires; the next join revives it from
//! storage. `batch.rs` is one batch of commands, recorded in one commit;
//! `members.rs` is who is in the room; `follow.rs` the actor beside
//! other nodes appending to the same log; `owning.rs` this node's ownership of
//! the room (`lease.rs` the lease it holds), without which it appends nothing; `feed/` what the room sends, and
//! `socket_writes.rs` how it writes straight to caught-up members' sockets.

mod actor;
mod batch;
mod commands;
mod conn_id;
mod feed;
mod follow;
mod lease;
mod members;
mod owning;
mod socket_writes;
mod state;
#[cfg(test)]
mod tests;

pub(super) use actor::{Room, RoomLimits, RoomStats, Shared};
pub(super) use commands::{JoinError, RoomCmd};
pub(super) use conn_id::ConnId;
pub(super) use feed::{Cursor, Read};
pub(super) use socket_writes::{Left, MemberSocket, SocketClosed, Writer};
