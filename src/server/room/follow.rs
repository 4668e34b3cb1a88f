//! The room actor beside other nodes appending to the same log (`peers` not
//! alone): the actor as a replica of its room's log. Every node's actor
//! judges its own members' changes against the board at the head it holds
//! and appends them by compare-and-set (`RoomStore::append`); members are
//! sent only what the log holds, in its order, so members on different nodes
//! see one order. When another node appended first, the actor reads what it
//! missed, tells its members, judges its changes again and retries; it is
//! woken to read the log whenever it grows (`Peers::follow`).

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::actor::Room;
use super::commands::RoomCmd;
use super::feed::To;
use super::state::{Commit, RoomState, others_copy};
use crate::server::peers::Wake;
use crate::server::storage::StoreError;

/// How often a room reads its log even without a wake-up.
const POLL: Duration = Duration::from_secs(1);
/// Entries read from the log at a time (each may be a board-sized batch).
const PAGE: usize = 32;

impl Room {
    /// With other nodes, starts the task that wakes this room when its log grows.
    pub(super) fn wake_on_appends(&self) {
        let Some(mailbox) = self.mailbox.clone() else { return };
        if self.shared.peers.alone() {
            return;
        }
        let (stats, revoked, room_presence) =
            (self.stats.clone(), self.revoked.clone(), self.shared.room_presence.clone());
        let wake = move |why| {
            let Some(tx) = mailbox.upgrade() else { return false };
            match why {
                // Presence goes from tab to tab, never through the room.
                Wake::Presence(said) => {
                    room_presence.heard(&said);
                    return true;
                }
                Wake::Listening => {
                    room_presence.listening();
                    return true;
                }
                // Another node replaced the view-only link: this node's viewers go too.
                Wake::Revoked => {
                    if let Some(revoked) = &revoked {
                        revoked.send_modify(|n| *n += 1);
                    }
                }
                Wake::Appended => {}
            }
            // Only a room with members here needs to know at once (a wake-up
            // must not keep an empty room from retiring: joins read the log
            // anyway). A full mailbox has work queued already, and reading
            // the log comes with it.
            if stats.members.load(Ordering::Relaxed) > 0 {
                let _ = tx.try_send(RoomCmd::Tail);
            }
            true
        };
        self.shared.peers.follow(self.name.clone(), POLL, Box::new(wake));
    }

    /// With other nodes: reads what they appended since the room's head,
    /// applies it, and sends it to this node's members (as others' changes:
    /// their authors are elsewhere). Alone, nobody else appends.
    pub(super) async fn follow_log(&mut self) -> Result<(), StoreError> {
        if self.shared.peers.alone() {
            return Ok(());
        }
        loop {
            let entries = self.shared.store.read_log(&self.name, self.state.seq(), PAGE).await?;
            let full = entries.len() == PAGE;
            match self.state.follow(entries) {
                Ok(out) => out.into_iter().for_each(|msg| self.feed.push(To::All, msg)),
                Err(gap) => {
                    tracing::error!(room = %self.name, %gap, "reloading and resyncing members");
                    return self.reload_and_resync().await;
                }
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// After losing the race to append `commit`: the room reloaded at the
    /// log's head, what the members missed sent to them, the same changes
    /// judged again (those whose members are still here).
    pub(super) async fn catch_up_and_judge_again(&mut self, commit: Commit) -> Result<(), StoreError> {
        let (base, asked) = RoomState::lost_race(commit);
        tracing::debug!(room = %self.name, base, "another appender got there first; judging again");
        self.reload().await?;
        // The members hold the board as of `base`: send them what came after.
        let mut after = base;
        while after < self.state.seq() {
            let entries = self.shared.store.read_log(&self.name, after, PAGE).await?;
            let Some(last) = entries.last().map(|e| e.seq) else { break };
            for e in entries.into_iter().filter(|e| e.seq <= self.state.seq()) {
                for msg in others_copy(&e.into_record()) {
                    self.feed.push(To::All, msg);
                }
            }
            after = last;
        }
        for (author, op, change) in asked {
            if self.members.contains_key(&author.member) {
                self.judge(author, op, change);
            }
        }
        Ok(())
    }
}
