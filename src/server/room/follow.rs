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
            // From the room's own latest change, when it knows it: the log must
            // still hold it there. A Redis failover to a replica that lacked it
            // rewinds the log, and the changes appended after would otherwise
            // look like the next ones.
            let tip = self.state.tip().cloned();
            let after = tip.as_ref().map_or(self.state.seq(), |(seq, ..)| seq - 1);
            let mut entries = self.shared.store.read_log(&self.name, after, PAGE).await?;
            let full = entries.len() == PAGE;
            if let Some((seq, client, op)) = tip {
                if !entries.first().is_some_and(|e| e.seq == seq && e.client == client && e.op == op) {
                    return self.rewound().await;
                }
                entries.remove(0);
            }
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
        if self.state.seq() < base {
            // Not a race: the log is shorter than what this room recorded.
            return self.rewound().await;
        }
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

    /// The shared log lost changes this room had recorded or read (acknowledged
    /// ones, unless a replica was required: see `--redis-replicas`). The room
    /// takes a new epoch, so that no tab resumes past the loss as if its board
    /// still held them, and every member resyncs from what the log holds.
    pub(super) async fn rewound(&mut self) -> Result<(), StoreError> {
        self.shared.metrics.log_rewinds.inc();
        tracing::error!(room = %self.name, seq = self.state.seq(), "the log lost changes: new epoch, resyncing members");
        self.shared.store.new_epoch(&self.name, super::actor::fresh_epoch()).await?;
        self.reload_and_resync().await
    }
}
