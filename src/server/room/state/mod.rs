//! The room's decisions, without I/O: the board and its authority over it.
//! The actor (`room/mod.rs`) feeds it what arrives and carries out what it
//! decides (recording, sending); this never waits, reads a clock or touches a
//! socket, so it is tested on its own, as `core::session` is.
//!
//! A change is judged once (`stage`): refused (a repeat, an op too far, a
//! change the board refuses, a room its author may not store), or applied to
//! the board and staged, told to nobody until recorded. Refusals judged against
//! staged changes are staged too, so everything goes out in order and only
//! once the batch is recorded: a refusal judged against a change that then
//! failed to record must not reach its author. `commit` says what to record;
//! then `recorded` says what to send, or `lost_race` hands the staged changes
//! back to be judged again against a log another node moved on. `hello.rs`
//! answers a joiner; `disk.rs` decides what to write besides the changes;
//! `messages.rs` encodes what members are sent.

mod disk;
mod hello;
mod messages;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::conn_id::ConnId;
use super::feed::To;
use crate::server::fairness::Network;
use crate::server::frame::{Frame, frame};
use crate::server::storage::{Append, LoadedRoom, LogEntry, Recent, Record, Snapshot};
use disk::DiskState;
pub(crate) use messages::{applied_messages, others_copy};
use sketchboard_core::model::{Board, Change, ClientId, RoomName};
use sketchboard_core::protocol::{ErrorCode, MAX_OP_JUMP, ServerMsg};

/// Who made a change, as the room knows them.
#[derive(Debug, Clone)]
pub(crate) struct Author {
    pub member: ConnId,
    pub client: ClientId,
    /// Where they connect from: a room's first change stores it, on their account.
    pub network: Network,
    /// Their person number in the room's presence, where known.
    pub by: Option<u32>,
}

/// How a change was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Judged {
    Staged,
    Refused(ErrorCode),
}

/// A change judged and waiting for the batch to be recorded.
#[derive(Debug)]
struct Staged {
    author: Author,
    op: u64,
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    /// Applied to the board, to be recorded.
    Accepted(Record),
    /// Refused; its refusal goes to its author in order. The change is kept
    /// to be judged again if another node appended first.
    Refused { change: Change, refusal: Frame },
}

/// What a batch records, and what it will send once recorded.
pub(crate) struct Commit {
    /// What to record (taken by whoever records it); `None` when everything
    /// staged was refused.
    pub append: Option<Append>,
    /// The size of the snapshot it carries, if one.
    snapshot_bytes: Option<usize>,
    /// Whether it brings the room's lobby line up to date.
    refresh: bool,
    staged: Vec<Staged>,
    /// Each accepted record's copies, encoded once: for the log's size, and to send.
    copies: Vec<Vec<(Frame, Frame)>>,
    /// What everyone else's copies weigh: the log grows by about that much.
    bytes: usize,
    /// The seq the staged changes followed.
    base: u64,
}

impl Commit {
    /// How many changes it records.
    pub(crate) fn accepted(&self) -> usize {
        self.copies.len()
    }
}

/// The log another node moved on does not follow from this room's board.
#[derive(Debug, thiserror::Error)]
#[error("the log does not follow on from {seq}: entry {found} came next")]
pub(crate) struct Gap {
    pub seq: u64,
    pub found: u64,
}

/// The board and the room's authority over it.
pub(crate) struct RoomState {
    name: RoomName,
    board: Board,
    /// The seq of the latest change on the board, recorded or staged.
    seq: u64,
    /// This incarnation of the room (see `RoomStore::append`).
    epoch: u64,
    /// The latest changes, for catching up a client that reconnects after a short drop.
    recent: Recent,
    /// The last `op` accepted from each client: anything at or below it is a
    /// repeat (a re-send after a reconnect) and is not applied again.
    last_ops: HashMap<ClientId, u64>,
    disk: DiskState,
    staged: Vec<Staged>,
    /// The seq the staged changes follow.
    staged_from: u64,
    /// The board as `board` messages and the seq they show (`hello.rs`).
    board_parts: Option<(u64, Arc<[Frame]>)>,
    /// Who sent the change at `tip.0` and its op, when this room recorded or
    /// read it: the shared log must still hold that change there (`tip`).
    tip: Option<(u64, ClientId, u64)>,
}

impl RoomState {
    /// The room as loaded. `fresh_epoch` names it if it has never been stored
    /// (it is stored with its first change).
    pub(crate) fn loaded(name: RoomName, room: LoadedRoom, fresh_epoch: u64, now: Instant) -> RoomState {
        RoomState {
            name,
            disk: DiskState::loaded(&room, now),
            board: room.board,
            seq: room.seq,
            epoch: room.epoch.unwrap_or(fresh_epoch),
            recent: room.recent,
            last_ops: room.last_ops,
            staged: Vec::new(),
            staged_from: room.seq,
            board_parts: None,
            tip: room.tip,
        }
    }

    /// The latest change this room recorded or read from the log, when the
    /// board stands at it: (seq, client, op). A log that no longer holds that
    /// change at that seq has lost it.
    pub(crate) fn tip(&self) -> Option<&(u64, ClientId, u64)> {
        self.tip_at(self.seq)
    }

    /// The latest change recorded or read, if it is change `seq`.
    fn tip_at(&self, seq: u64) -> Option<&(u64, ClientId, u64)> {
        self.tip.as_ref().filter(|(at, ..)| *at == seq)
    }

    pub(crate) fn board(&self) -> &Board {
        &self.board
    }

    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// Judges `op`'s `change` by `author` against the board (and the
    /// author's mark) and stages it. `may_store` is asked, only for a valid
    /// change that would store the room (its first), whether its author may
    /// store another room.
    pub(crate) fn stage(
        &mut self,
        author: Author,
        op: u64,
        change: Change,
        may_store: impl FnOnce() -> Result<(), String>,
    ) -> Judged {
        if self.staged.is_empty() {
            self.staged_from = self.seq;
        }
        let last_op = self.last_ops.get(&author.client).copied().unwrap_or(0);
        let refusal = if op <= last_op {
            let why =
                format!("op {op} is not above {last_op}, the last op accepted from this client; not applied again");
            Some((ErrorCode::StaleOp, why))
        } else if op - last_op > MAX_OP_JUMP {
            // One change must not be able to lock its client id out for good.
            let why =
                format!("op {op} is more than {MAX_OP_JUMP} above {last_op}, the last op accepted from this client");
            Some((ErrorCode::OpTooFar, why))
        } else if self.seq == 0 {
            // The room's first change stores it: that counts against its author's
            // address, but only if the change is one that would be recorded.
            match self.board.validate(&change) {
                Err(e) => Some((ErrorCode::for_change_error(&e), e.to_string())),
                Ok(()) => may_store().err().map(|why| (ErrorCode::TooManyRooms, why)),
            }
        } else {
            None
        };
        // Applying validates (once, on the hot path); on error nothing changed.
        let refusal = refusal
            .or_else(|| self.board.apply(&change).err().map(|e| (ErrorCode::for_change_error(&e), e.to_string())));
        if let Some((code, why)) = refusal {
            let refusal = frame(&ServerMsg::error(code, why, Some(op)));
            self.staged.push(Staged { author, op, outcome: Outcome::Refused { change, refusal } });
            return Judged::Refused(code);
        }
        self.seq += 1;
        self.last_ops.insert(author.client.clone(), op);
        let record = Record { seq: self.seq, client: author.client.clone(), op, change, by: author.by };
        self.staged.push(Staged { author, op, outcome: Outcome::Accepted(record) });
        Judged::Staged
    }

    /// What to record for everything staged (`None` when nothing is).
    pub(crate) fn commit(&mut self, now: Instant) -> Option<Commit> {
        if self.staged.is_empty() {
            return None;
        }
        let staged = std::mem::take(&mut self.staged);
        let accepted = staged.iter().filter_map(|s| match &s.outcome {
            Outcome::Accepted(record) => Some((&s.author, record)),
            Outcome::Refused { .. } => None,
        });
        let (mut records, mut creator) = (Vec::new(), None);
        for (author, record) in accepted {
            creator = creator.or_else(|| (!self.disk.stored).then(|| author.network.to_string()));
            records.push(record.clone());
        }
        let copies: Vec<Vec<(Frame, Frame)>> = records.iter().map(applied_messages).collect();
        let bytes = copies.iter().flatten().map(|(_, others)| others.len()).sum();
        let append = (!records.is_empty()).then(|| {
            let snapshot = self.disk.snapshot_due(records.len() as u64, bytes).then(|| self.snapshot(&records));
            Append {
                epoch: self.epoch,
                creator,
                snapshot: snapshot.flatten(),
                refresh: self.disk.refresh_due(now),
                shape_count: self.board.len(),
                tip: self.tip_at(self.staged_from).map(|(_, c, op)| (c.clone(), *op)),
                records,
                // The actor's to fill in: the lease is its business.
                lease: None,
            }
        });
        let snapshot_bytes = append.as_ref().and_then(|a| a.snapshot.as_ref()).map(|s| s.board.len());
        let refresh = append.as_ref().is_some_and(|a| a.refresh);
        Some(Commit { append, snapshot_bytes, refresh, staged, copies, bytes, base: self.staged_from })
    }

    /// A snapshot of the board, with the marks it vouches for.
    fn snapshot(&self, records: &[Record]) -> Option<Snapshot> {
        match serde_json::to_string(&self.board) {
            Ok(board) => {
                let marks = self.disk.marks_moved.iter().filter_map(|c| Some((c.clone(), *self.last_ops.get(c)?)));
                let marks = marks.chain(records.iter().map(|r| (r.client.clone(), r.op))).collect();
                Some(Snapshot { board, marks })
            }
            Err(e) => {
                tracing::warn!(room = %self.name, error = %e, "could not encode a snapshot; will retry");
                None
            }
        }
    }

    /// `commit` is recorded: what to send, in order (refusals to their
    /// authors, each change to everyone, its author's copy being its confirmation).
    pub(crate) fn recorded(&mut self, commit: Commit, now: Instant) -> Vec<(To, Frame)> {
        if !commit.copies.is_empty() {
            let clients = commit.staged.iter().filter_map(|s| match &s.outcome {
                Outcome::Accepted(record) => Some(&record.client),
                Outcome::Refused { .. } => None,
            });
            self.disk.recorded(now, clients, commit.bytes, commit.snapshot_bytes, commit.refresh);
        }
        let mut copies = commit.copies.into_iter();
        let mut out = Vec::with_capacity(commit.staged.len());
        for staged in commit.staged {
            match staged.outcome {
                Outcome::Refused { refusal, .. } => out.push((To::One(staged.author.member), refusal)),
                Outcome::Accepted(record) => {
                    let Some(copies) = copies.next() else { break };
                    self.tip = Some((record.seq, record.client, record.op));
                    self.recent.push(record.change);
                    // Everyone gets the same bytes, but for the author, whose
                    // copy carries its `op` as the confirmation.
                    for (own, for_others) in copies {
                        out.push((To::AllWithOwnCopy { author: staged.author.member, own }, for_others));
                    }
                }
            }
        }
        out
    }

    /// Another node appended first: `commit` was not recorded. Its changes,
    /// in order, to be judged again once the room is reloaded at the log's
    /// head, and the seq its members' boards stand at (what they must be sent
    /// from the log to catch up).
    pub(crate) fn lost_race(commit: Commit) -> (u64, Vec<(Author, u64, Change)>) {
        let asked = commit.staged.into_iter().map(|s| {
            let change = match s.outcome {
                Outcome::Accepted(record) => record.change,
                Outcome::Refused { change, .. } => change,
            };
            (s.author, s.op, change)
        });
        (commit.base, asked.collect())
    }

    /// Changes another node recorded, read from the log after `seq`: applied,
    /// and everyone's copies to send. A log that does not follow on is a `Gap`
    /// (reload the room); what came before it is applied.
    pub(crate) fn follow(&mut self, entries: Vec<LogEntry>) -> Result<Vec<Frame>, Gap> {
        let mut out = Vec::new();
        for e in entries {
            if e.seq != self.seq + 1 || self.board.apply(&e.change).is_err() {
                return Err(Gap { seq: self.seq, found: e.seq });
            }
            self.seq = e.seq;
            self.tip = Some((e.seq, e.client.clone(), e.op));
            let mark = self.last_ops.entry(e.client.clone()).or_default();
            *mark = (*mark).max(e.op);
            let record = e.into_record();
            let copies = others_copy(&record);
            self.disk.followed(&record.client, copies.iter().map(|m| m.len()).sum());
            self.recent.push(record.change);
            out.extend(copies);
        }
        Ok(out)
    }

    /// The room's lobby line, if it lags what is recorded: (seq, shapes).
    pub(crate) fn stale_row(&self) -> Option<(u64, usize)> {
        self.disk.row_stale.then(|| (self.seq, self.board.len()))
    }

    /// The lobby line was brought up to date.
    pub(crate) fn row_refreshed(&mut self, now: Instant) {
        self.disk.row_refreshed(now);
    }
}
