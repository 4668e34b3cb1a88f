//! What a connection asks of its room (`RoomCmd`), and why a join can fail.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::conn_id::ConnId;
use super::feed::Cursor;
use crate::server::fairness::{Network, Unfair};
use crate::server::frame::Frame;
use crate::server::storage::{Owner, StoreError};
use sketchboard_core::model::{Change, ClientId};
use sketchboard_core::protocol::Position;

/// What a connection asks of its room.
#[derive(Debug)]
pub(crate) enum RoomCmd {
    Join {
        member: ConnId,
        client: ClientId,
        /// Where the member connects from, for the per-address limits.
        network: Network,
        /// Where the board the client already holds stands, if it holds one.
        at: Option<Position>,
        /// Came by a view-only link: told the room by another name (it may be private).
        viewer: bool,
        /// Where the room sends this member its answer to hello. When the room
        /// drops it, the member has been removed and must reconnect to resynchronise.
        out: mpsc::Sender<Frame>,
        /// The member's place in the room's feed, from just after the answer.
        reply: oneshot::Sender<Result<Cursor, JoinError>>,
    },
    Leave {
        member: ConnId,
    },
    Change {
        member: ConnId,
        op: u64,
        change: Change,
        /// Kept alive until the room has taken the change in, then dropped:
        /// for a change that came in parts, the server's room for it
        /// (`connection::parts`), so it counts while it waits in the mailbox.
        keep: Option<Box<dyn std::any::Any + Send>>,
    },
    /// Several nodes: the room's log may have grown (another node appended).
    Tail,
    /// The server is full and this room, never changed, gives its place to a
    /// new one (`registry`): its members are closed, and it retires.
    GiveWay,
    /// Before a writer's socket opens: the room claims itself for this node,
    /// and answers `None` if it is this node's, or the node that owns it.
    Own {
        reply: oneshot::Sender<Result<Option<Owner>, JoinError>>,
    },
    /// The server stops: the room records what it holds, closes its members,
    /// releases its lease (another node takes the room at once) and retires.
    Stop,
}

#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum JoinError {
    #[error("the room could not be loaded: {0}")]
    LoadFailed(Arc<StoreError>),
    #[error("the room kept closing while joining it; try again")]
    KeptClosing,
    /// Another node owns the room (`room::lease`): the writer resumes through it.
    #[error("node {0} serves this room; reconnect to be forwarded there")]
    Elsewhere(String),
    #[error("{0}")]
    Unfair(Unfair),
    #[error("the room is full: it allows {0} people at once")]
    Full(usize),
    #[error("the server has {0} rooms open, as many as it allows: try again later")]
    Busy(usize),
}
