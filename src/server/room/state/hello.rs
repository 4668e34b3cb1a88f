//! How a room answers a joiner's hello: with a welcome and the board in
//! parts, or, for a tab that holds the board as of a recent `seq`, with just
//! the changes it missed.

use std::sync::Arc;

use super::RoomState;
use crate::server::frame::{Frame, frame};
use sketchboard_core::model::{ClientId, RoomName};
use sketchboard_core::protocol::{PROTOCOL_VERSION, Position, SHAPES_PER_PART, ServerMsg};

/// The largest catch-up sent: well within a member's write buffer (`sockets`).
const MAX_CATCH_UP_BYTES: usize = 256 * 1024;

/// Below this many missed changes a reconnecting client is always caught up
/// from the log; above it, only when that is no longer than a snapshot.
const CATCH_UP_ALWAYS: usize = 64;

/// What a viewer's welcome calls the room.
const VIEWER_ROOM: &str = "view-only";

impl RoomState {
    /// A welcome and the board, or, for a client that holds the board as of
    /// `at`, just the changes after it when the recent log reaches back that
    /// far and they hold no more changes than a snapshot holds shapes.
    /// `members` counts the joiner.
    pub(crate) fn answer_hello(
        &mut self,
        client: &ClientId,
        at: Option<Position>,
        viewer: bool,
        members: u32,
    ) -> Vec<Frame> {
        let last_op = self.last_ops.get(client).copied().unwrap_or(0);
        // A viewer may not learn the room's name (it is the edit link).
        let room =
            if viewer { RoomName::parse(VIEWER_ROOM).unwrap_or_else(|_| self.name.clone()) } else { self.name.clone() };
        let (version, epoch, seq) = (PROTOCOL_VERSION, self.epoch, self.seq);
        // A board from another incarnation of the room, or beyond `seq` (say,
        // storage restored from a backup), is one this room never had: only
        // a snapshot can fix that.
        let missed = at.filter(|p| p.epoch == epoch && p.seq <= seq).map(|p| (seq - p.seq) as usize);
        let missed = missed.filter(|&missed| missed <= self.recent.len()).map(|missed| {
            // Weighed by what they hold: a few imports can outweigh a board.
            (missed, self.recent.last(missed).map(|c| c.parts().len()).sum::<usize>())
        });
        if let Some((missed, weight)) = missed
            && weight <= self.board.len().max(CATCH_UP_ALWAYS)
        {
            let changes = self.recent.last(missed).cloned().collect();
            let from = seq - missed as u64;
            let catch_up =
                ServerMsg::CatchUp { version, room: room.clone(), from, changes, members, last_op }.to_json();
            // One message, so within what a member's socket holds at once;
            // a larger one is a snapshot's work, which comes in parts.
            if catch_up.len() <= MAX_CATCH_UP_BYTES {
                return vec![Frame::from(catch_up)];
            }
        }
        let parts = self.board_parts();
        let welcome = ServerMsg::Welcome { version, room, seq, epoch, members, last_op, parts: parts.len() as u32 };
        std::iter::once(frame(&welcome)).chain(parts.iter().cloned()).collect()
    }

    /// The board as `board` messages, encoded at most once per `seq`: a burst
    /// of joins (a class opening one link) encodes a big board once, and every
    /// joiner is sent the same bytes. (It shows staged changes too; if
    /// recording them fails, the room is reloaded and this goes with it.)
    fn board_parts(&mut self) -> Arc<[Frame]> {
        if let Some((at, parts)) = &self.board_parts
            && *at == self.seq
        {
            return parts.clone();
        }
        let shapes: Vec<_> = self.board.shapes().cloned().collect();
        let chunks: Vec<&[_]> = if shapes.is_empty() { vec![&[]] } else { shapes.chunks(SHAPES_PER_PART).collect() };
        let seq = self.seq;
        let parts: Arc<[Frame]> = chunks
            .into_iter()
            .enumerate()
            .map(|(part, shapes)| frame(&ServerMsg::Board { seq, part: part as u32, shapes: shapes.to_vec() }))
            .collect();
        self.board_parts = Some((seq, parts.clone()));
        parts
    }
}
