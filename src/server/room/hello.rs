//! How a room answers a joiner's hello: with a welcome and the board in
//! parts, or, for a tab that holds the board as of a recent `seq`, with just
//! the changes it missed.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;

use super::{CATCH_UP_ALWAYS, ConnId, Cursor, JoinError, Member, Room};
use crate::model::{ClientId, RoomName};
use crate::protocol::{PROTOCOL_VERSION, Position, SHAPES_PER_PART, ServerMsg};
use crate::server::fairness::Network;

/// The largest catch-up sent: well within a member's write buffer (`sockets`).
const MAX_CATCH_UP_BYTES: usize = 256 * 1024;

/// What a viewer's welcome calls the room.
const VIEWER_ROOM: &str = "view-only";

impl Room {
    pub(super) fn join(
        &mut self,
        member: ConnId,
        client: ClientId,
        network: Network,
        at: Option<Position>,
        viewer: bool,
        out: mpsc::Sender<Utf8Bytes>,
    ) -> Result<Cursor, JoinError> {
        // A tab that reconnects before the room noticed its old connection
        // die (no close frame on a dropped network) replaces it, rather than
        // count twice, or find its own ghost taking the last place.
        let ghosts: Vec<ConnId> = self.members.iter().filter(|(_, m)| m.client == client).map(|(id, _)| *id).collect();
        self.drop_members(ghosts);
        if self.members.len() >= self.max_members {
            return Err(JoinError::Full(self.max_members));
        }
        let answer = self.answer_hello(&client, at, viewer);
        // The member reads the feed from here on, after its answer.
        let cursor = self.feed.cursor(member);
        if answer.into_iter().all(|msg| out.try_send(msg).is_ok()) {
            self.members.insert(member, Member { client, network, _queue: out });
            self.presence_changed();
        }
        Ok(cursor)
    }

    /// A welcome and the board, or, for a client that holds the board as of
    /// `at`, just the changes after it when the recent log reaches back that
    /// far and they hold no more changes than a snapshot holds shapes.
    fn answer_hello(&mut self, client: &ClientId, at: Option<Position>, viewer: bool) -> Vec<Utf8Bytes> {
        let members = self.members.len() as u32 + 1;
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
            let changes = self.recent.range(self.recent.len() - missed..);
            // Weighed by what they hold: a few imports can outweigh a board.
            (missed, changes.map(|c| c.parts().len()).sum::<usize>())
        });
        if let Some((missed, weight)) = missed
            && weight <= self.board.len().max(CATCH_UP_ALWAYS)
        {
            let changes = self.recent.range(self.recent.len() - missed..).cloned().collect();
            let from = seq - missed as u64;
            let catch_up =
                ServerMsg::CatchUp { version, room: room.clone(), from, changes, members, last_op }.to_json();
            // One message, so within what a member's socket holds at once;
            // a larger one is a snapshot's work, which comes in parts.
            if catch_up.len() <= MAX_CATCH_UP_BYTES {
                return vec![Utf8Bytes::from(catch_up)];
            }
        }
        let parts = self.board_parts();
        let welcome = ServerMsg::Welcome { version, room, seq, epoch, members, last_op, parts: parts.len() as u32 };
        std::iter::once(Utf8Bytes::from(welcome.to_json())).chain(parts.iter().cloned()).collect()
    }

    /// The board as `board` messages, encoded at most once per `seq`. (It
    /// shows staged changes too; if recording them fails, `install` drops it
    /// with the rest.)
    fn board_parts(&mut self) -> Arc<[Utf8Bytes]> {
        if let Some((at, parts)) = &self.board_parts
            && *at == self.seq
        {
            return parts.clone();
        }
        let shapes: Vec<_> = self.board.shapes().cloned().collect();
        let chunks: Vec<&[_]> = if shapes.is_empty() { vec![&[]] } else { shapes.chunks(SHAPES_PER_PART).collect() };
        let seq = self.seq;
        let parts: Arc<[Utf8Bytes]> = chunks
            .into_iter()
            .enumerate()
            .map(|(part, shapes)| {
                let part = ServerMsg::Board { seq, part: part as u32, shapes: shapes.to_vec() };
                Utf8Bytes::from(part.to_json())
            })
            .collect();
        self.board_parts = Some((seq, parts.clone()));
        parts
    }
}
