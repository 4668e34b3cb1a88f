//! Who is in the room: joining (the answer to hello, then the feed), leaving,
//! being closed for a resync, and how many there are, told to everyone at
//! most every `COUNT_EVERY`.

use std::sync::atomic::Ordering;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::actor::{Member, MemberCount, Room};
use super::commands::JoinError;
use super::conn_id::ConnId;
use super::feed::{Cursor, To};
use crate::server::fairness::Network;
use crate::server::frame::{Frame, frame};
use sketchboard_core::model::ClientId;
use sketchboard_core::protocol::{Position, ServerMsg};

impl Room {
    pub(super) fn join(
        &mut self,
        member: ConnId,
        client: ClientId,
        network: Network,
        at: Option<Position>,
        viewer: bool,
        out: mpsc::Sender<Frame>,
    ) -> Result<Cursor, JoinError> {
        // A tab that reconnects before the room noticed its old connection
        // die (no close frame on a dropped network) replaces it, rather than
        // count twice, or find its own ghost taking the last place.
        let ghosts: Vec<ConnId> = self.members.iter().filter(|(_, m)| m.client == client).map(|(id, _)| *id).collect();
        self.drop_members(ghosts);
        if self.members.len() >= self.limits.max_members {
            return Err(JoinError::Full(self.limits.max_members));
        }
        let answer = self.state.answer_hello(&client, at, viewer, self.members.len() as u32 + 1);
        // The member reads the feed from here on, after its answer.
        let cursor = self.feed.cursor(member);
        if answer.into_iter().all(|msg| out.try_send(msg).is_ok()) {
            self.members.insert(member, Member { client, network, _queue: out });
            self.count_changed();
        }
        Ok(cursor)
    }

    pub(super) fn leave(&mut self, member: ConnId) {
        if self.members.remove(&member).is_some() {
            self.count_changed();
        }
    }

    /// Closes these members' connections: they resynchronise.
    pub(super) fn drop_members(&mut self, ids: Vec<ConnId>) {
        for id in ids {
            if self.members.remove(&id).is_some() {
                self.feed.forget(id);
                tracing::info!(room = %self.name, member = %id, "closing a member's connection for a resync");
                self.count_changed();
            }
        }
    }

    fn count_changed(&mut self) {
        self.stats.members.store(self.members.len() as u32, Ordering::Relaxed);
        self.count.changed = true;
    }

    /// Tells every member how many are in the room, if that changed.
    pub(super) fn tell_member_count(&mut self) {
        if !self.count.changed {
            return;
        }
        self.count = MemberCount { changed: false, told: Instant::now() };
        let members = self.members.len() as u32;
        self.feed.push(To::All, frame(&ServerMsg::MemberCount { members }));
    }
}
