//! Who may append to a room: one node at a time, its owner (docs/operations.md,
//! "One owner per room"). With several nodes a room's owner holds a lease on
//! it, claimed and renewed in the room's own storage, and every append names
//! the owner and the lease's epoch; the store refuses an append whose owner is
//! no longer the room's (`StoreError::Fenced`), however long ago its lease ran
//! out. Clocks decide only how soon a dead owner is replaced, never whether
//! two nodes can both write. One node alone (SQLite) owns every room for good.

use std::time::Duration;

/// A node as the others reach it: its name (made at start, unique to the
/// process) and the address its rooms' sockets are forwarded to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub address: String,
}

impl Node {
    /// This process, reached at `address` (`http://HOST:PORT`).
    pub fn this_process(address: String) -> Node {
        Node { name: format!("n{:08x}", rand::random::<u32>()), address }
    }
}

/// What claiming (or renewing) a room's lease answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The room is this node's under `epoch`, for `lasts` from now (`None`: for good).
    Mine { epoch: u64, lasts: Option<Duration> },
    /// Another node owns it (or owned it last, and its lease has not run out).
    Theirs(Owner),
}

/// A room's owner, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub node: Node,
    /// Grows with every grant of the room's lease.
    pub epoch: u64,
    /// Whether its lease still runs: if not, any node may claim the room.
    pub live: bool,
    /// Whether it is this node.
    pub here: bool,
}
