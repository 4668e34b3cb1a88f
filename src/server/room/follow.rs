//! Several nodes (a Redis log): the room actor as a replica of its room's
//! log. Every node's actor validates its own members' changes against the
//! board at the head it holds and appends them by compare-and-set
//! (`storage::redis_log`); members are sent only what the log holds, in its
//! order, so members on different nodes see one order. When another node
//! appended first, the actor reads what it missed, tells its members, judges
//! its changes again and retries; it is woken to read the log whenever it
//! grows (Redis Pub/Sub, and a poll in case a wake-up is lost).

use std::time::Duration;

use super::feed::To;
use super::record::others_copy;
use super::{ConnId, Room, RoomCmd};
use crate::server::storage::redis_follow::Wake;
use crate::server::storage::{Record, StoreError};

/// How often a room reads its log even without a wake-up.
const POLL: Duration = Duration::from_secs(1);
/// Entries read from the log at a time (each may be a board-sized batch).
const PAGE: usize = 32;

impl Room {
    /// With a Redis log, starts the task that wakes this room when its log grows.
    pub(super) fn wake_on_appends(&self) {
        let (Some(log), Some(mailbox)) = (self.store.log(), self.mailbox.clone()) else { return };
        let (stats, revoked, lounge) = (self.stats.clone(), self.revoked.clone(), self.lounge.clone());
        log.follow(self.name.clone(), POLL, move |why| {
            let Some(tx) = mailbox.upgrade() else { return false };
            match why {
                // Presence goes from tab to tab, never through the room.
                Wake::Presence(said) => {
                    lounge.heard(&said);
                    return true;
                }
                Wake::Listening => {
                    lounge.listening();
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
            if stats.members.load(std::sync::atomic::Ordering::Relaxed) > 0 {
                let _ = tx.try_send(RoomCmd::Tail);
            }
            true
        });
    }

    /// Reads what other nodes appended since `seq`, applies it, and sends it
    /// to this node's members (as others' changes: their authors are elsewhere).
    pub(super) async fn follow_log(&mut self) -> Result<(), StoreError> {
        let Some(log) = self.store.log().cloned() else { return Ok(()) };
        loop {
            let entries = log.read(&self.name, self.seq, Some(PAGE)).await?;
            let full = entries.len() == PAGE;
            for e in entries {
                if e.seq != self.seq + 1 || self.board.apply(&e.change).is_err() {
                    tracing::error!(room = %self.name, seq = e.seq, "the log does not follow on; reloading and resyncing members");
                    self.install(self.store.load_room(&self.name).await?);
                    let everyone: Vec<ConnId> = self.members.keys().copied().collect();
                    self.drop_members(everyone);
                    return Ok(());
                }
                self.seq = e.seq;
                let mark = self.last_ops.entry(e.client.clone()).or_default();
                *mark = (*mark).max(e.op);
                let record = Record { seq: e.seq, client: e.client, op: e.op, change: e.change, by: e.by };
                let for_others = others_copy(&record);
                self.followed(&record.client, for_others.iter().map(|m| m.len()).sum());
                self.remember(record.change);
                for msg in for_others {
                    self.feed.push(To::All, msg);
                }
            }
            self.board_parts = None;
            if !full {
                return Ok(());
            }
        }
    }

    /// After losing the race to append at `head`: the board at the log's
    /// head, what the members missed sent to them, the same changes judged again.
    pub(super) async fn catch_up_and_restage(&mut self, head: u64) -> Result<(), StoreError> {
        let asked = std::mem::take(&mut self.asked);
        let base = self.staged_from;
        tracing::debug!(room = %self.name, base, head, "another node appended first; judging again");
        self.install(self.store.load_room(&self.name).await?);
        // The members hold the board as of `base`: send them what came after.
        if let Some(log) = self.store.log().cloned() {
            let mut after = base;
            while after < self.seq {
                let entries = log.read(&self.name, after, Some(PAGE)).await?;
                let Some(last) = entries.last().map(|e| e.seq) else { break };
                for e in entries.into_iter().filter(|e| e.seq <= self.seq) {
                    let record = Record { seq: e.seq, client: e.client, op: e.op, change: e.change, by: e.by };
                    for msg in others_copy(&record) {
                        self.feed.push(To::All, msg);
                    }
                }
                after = last;
            }
        }
        for (member, op, change) in asked {
            self.asked.push((member, op, change.clone()));
            self.stage(member, op, change);
        }
        Ok(())
    }

    fn remember(&mut self, change: crate::model::Change) {
        crate::server::storage::remember(&mut self.recent, change);
    }
}
