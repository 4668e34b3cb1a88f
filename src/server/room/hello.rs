//! How a room answers a joiner's hello: with a welcome snapshot, or, for a tab
//! that holds the board as of a recent `seq`, with just the changes it missed.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::{CATCH_UP_ALWAYS, ConnId, Cursor, JoinError, Member, Room};
use crate::model::ClientId;
use crate::protocol::{EncodedBoard, EncodedServerMsg, PROTOCOL_VERSION, Position, ServerMsg, encode_board};
use crate::server::fairness::Network;

impl Room {
    pub(super) fn join(
        &mut self,
        member: ConnId,
        client: ClientId,
        network: Network,
        at: Option<Position>,
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
        let answer = self.answer_hello(&client, at).map_err(|e| {
            tracing::error!(room = %self.name, error = %e, "could not encode the board for a joiner");
            JoinError::Encoding(Arc::new(e))
        })?;
        // The member reads the feed from here on, after its answer.
        let cursor = self.feed.cursor(member);
        if out.try_send(Utf8Bytes::from(answer)).is_ok() {
            self.members.insert(member, Member { client, network, _queue: out });
            self.presence_changed();
        }
        Ok(cursor)
    }

    /// A welcome snapshot, or, for a client that holds the board as of
    /// `at`, just the changes after it when the recent log reaches back
    /// that far and they are no longer than a snapshot.
    fn answer_hello(&mut self, client: &ClientId, at: Option<Position>) -> Result<String, serde_json::Error> {
        let members = self.members.len() as u32 + 1;
        let last_op = self.last_ops.get(client).copied().unwrap_or(0);
        let (version, room, epoch, seq) = (PROTOCOL_VERSION, self.name.clone(), self.epoch, self.seq);
        // A board from another incarnation of the room, or beyond `seq` (say,
        // storage restored from a backup), is one this room never had: only
        // a snapshot can fix that.
        let missed = at.filter(|p| p.epoch == epoch && p.seq <= seq).map(|p| (seq - p.seq) as usize);
        if let Some(missed) = missed
            && missed <= self.recent.len()
            && missed <= self.board.len().max(CATCH_UP_ALWAYS)
        {
            let changes = self.recent.range(self.recent.len() - missed..).cloned().collect();
            let from = seq - missed as u64;
            return Ok(ServerMsg::CatchUp { version, room, from, changes, members, last_op }.to_json());
        }
        let shapes: &RawValue = self.encoded_board()?;
        Ok(EncodedServerMsg::Welcome { version, room, seq, epoch, members, last_op, shapes }.to_json())
    }

    /// The board as JSON, serialised at most once per `seq`: snapshots and
    /// welcomes share it. (It shows staged changes too; if recording them
    /// fails, `install` drops it with the rest.)
    pub(super) fn encoded_board(&mut self) -> Result<&RawValue, serde_json::Error> {
        let fresh = match self.board_json.take() {
            Some((at, encoded)) if at == self.seq => encoded,
            _ => encode_board(&self.board)?,
        };
        let (_, encoded): &(u64, EncodedBoard) = self.board_json.insert((self.seq, fresh));
        Ok(encoded)
    }
}
