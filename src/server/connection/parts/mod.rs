//! Changes sent in parts (`ClientMsg::Part`): a batch too large for one
//! message is put back together here, before the room sees it, so the room
//! takes it as one change like any other (one `op`, one recorded change).
//!
//! What one connection may hold is bounded by the protocol: one change at a
//! time, of at most `MAX_PARTS` messages of at most `MAX_MESSAGE_BYTES`, and
//! at most `MAX_BATCH` changes, each part within `PART_WITHIN` of the one
//! before (time the server is the slow one does not count; the client's own
//! pings and its rate limit do). What all connections together hold is the
//! server's `PartsBudget` (`budget.rs`): room for what has arrived (as
//! weighed, not as announced) and for the next part, fair under contention. Every `op` gets one answer: refused
//! (once), or whole and handed to the room.

mod budget;
#[cfg(test)]
mod tests;

use std::time::Duration;

use tokio::time::Instant;

use crate::server::fairness::Network;
pub(crate) use budget::PartsBudget;
use budget::{NoRoom, Reserved};
use sketchboard_core::model::{Change, MAX_BATCH};
use sketchboard_core::protocol::{ErrorCode, MAX_MESSAGE_BYTES, ServerMsg};

/// How long a change in parts may wait for its next part.
pub(super) const PART_WITHIN: Duration = Duration::from_secs(10);

/// What a part that came holds of the server's memory: its changes as
/// decoded (their text, such as ids, is no longer than the frame), whatever
/// its frame announced. A change cannot earn room by sending little.
fn weight(bytes: usize, changes: &[Change]) -> usize {
    bytes.saturating_add(changes.len().saturating_mul(std::mem::size_of::<Change>()))
}

/// One change coming in parts.
struct Assembly {
    op: u64,
    parts: u32,
    /// The part expected next, and by when.
    next: u32,
    due: Instant,
    changes: Vec<Change>,
    room: Reserved,
}

/// One connection's change in parts, if one is under way.
pub(super) struct Assembler {
    budget: PartsBudget,
    network: Network,
    current: Option<Assembly>,
    /// The last change refused here: its later parts are dropped without a word.
    refused: Option<u64>,
}

/// What a part made: refusals to send, and the change once it is whole,
/// with the room it holds until the room has taken it in.
#[derive(Default)]
pub(super) struct Took {
    pub refusals: Vec<ServerMsg>,
    pub whole: Option<(u64, Change, Reserved)>,
}

impl Took {
    /// Whether the server had no room: the connection must close (1013) so
    /// that nothing its client sent after goes in before the change.
    pub(super) fn busy(&self) -> bool {
        self.refusals.iter().any(|r| matches!(r, ServerMsg::Error { code: ErrorCode::Busy, .. }))
    }
}

impl Assembler {
    pub(super) fn new(budget: PartsBudget, network: Network) -> Assembler {
        Assembler { budget, network, current: None, refused: None }
    }

    /// When the change under way stops waiting for its next part, if one is.
    pub(super) fn due(&self) -> Option<Instant> {
        self.current.as_ref().map(|a| a.due)
    }

    /// Gives the change under way another `PART_WITHIN` (the wait was the server's).
    pub(super) fn postpone(&mut self) {
        if let Some(a) = self.current.as_mut() {
            a.due = Instant::now() + PART_WITHIN;
        }
    }

    /// Ready when the change under way was abandoned to make room for another
    /// (then `expired` refuses it); never without one.
    pub(super) async fn evicted(&self) {
        match &self.current {
            Some(a) => a.room.evicted().await,
            None => std::future::pending().await,
        }
    }

    /// The change under way waited too long for its next part, or gave its
    /// room up to another: abandoned, and refused.
    pub(super) fn expired(&mut self) -> Option<ServerMsg> {
        let stalled = self.current.take_if(|a| Instant::now() >= a.due || a.room.is_evicted())?;
        let why = if stalled.room.is_evicted() {
            // (The budget counted that against the address when it took the room back.)
            format!(
                "change {} abandoned at part {} of {}: {}",
                stalled.op,
                stalled.next,
                stalled.parts,
                NoRoom::Evicted.why()
            )
        } else {
            self.budget.abandoned(self.network);
            format!("change {} waited over {PART_WITHIN:?} for part {} of {}", stalled.op, stalled.next, stalled.parts)
        };
        Some(self.refuse(ErrorCode::BadBatch, why, stalled.op))
    }

    /// Takes part `part` of `parts` of change `op` (checked already: `part <
    /// parts`, `2 <= parts <= MAX_PARTS`, at least one change), which came in
    /// a frame of `bytes`.
    pub(super) fn part(&mut self, op: u64, part: u32, parts: u32, changes: Vec<Change>, bytes: usize) -> Took {
        let mut took = Took::default();
        if self.refused == Some(op) {
            // This op has had its answer: the rest of it goes quietly.
            return took;
        }
        if part == 0 && self.current.as_ref().is_some_and(|a| a.op != op) {
            took.refusals.extend(self.interrupted());
        }
        if part == 0 && self.current.is_none() {
            match self.budget.open(self.network, weight(bytes, &changes) + MAX_MESSAGE_BYTES) {
                Ok(room) => {
                    let due = Instant::now() + PART_WITHIN;
                    self.current = Some(Assembly { op, parts, next: 0, due, changes: Vec::new(), room });
                }
                Err(no_room) => {
                    took.refusals.push(self.refuse(ErrorCode::Busy, no_room.why(), op));
                    return took;
                }
            }
        }
        let fits = self.current.as_ref().is_some_and(|a| a.op == op && a.next == part && a.parts == parts);
        if !fits {
            // A part 0 again, a part skipped, or one with no change under way: the
            // change under way is refused, and this op too if it is another (once each).
            let under_way = self.current.as_ref().map(|a| a.op);
            took.refusals.extend(self.interrupted());
            if under_way != Some(op) {
                let why =
                    format!("part {part} of {parts} of change {op} does not follow on: parts come 0 first, in order");
                took.refusals.push(self.refuse(ErrorCode::BadBatch, why, op));
            }
            return took;
        }
        let Some(assembly) = self.current.as_mut() else { return took };
        if assembly.room.is_evicted() {
            took.refusals.extend(self.expired());
            return took;
        }
        if assembly.changes.len() + changes.len() > MAX_BATCH {
            self.current = None;
            let why = format!("a batch holds at most {MAX_BATCH} changes");
            took.refusals.push(self.refuse(ErrorCode::BadBatch, why, op));
            return took;
        }
        let arrived = weight(bytes, &changes);
        assembly.changes.extend(changes);
        assembly.next += 1;
        assembly.due = Instant::now() + PART_WITHIN;
        if assembly.next == assembly.parts {
            if let Some(done) = self.current.take() {
                took.whole = Some((done.op, Change::Batch { changes: done.changes }, done.room));
            }
            return took;
        }
        // Part 0 was weighed when the change opened; each later one as it comes
        // (room for the next part stays held, a message's worth).
        if part > 0
            && let Err(no_room) = self.budget.grow(&assembly.room, arrived)
        {
            self.current = None;
            let code = if no_room == NoRoom::Evicted { ErrorCode::BadBatch } else { ErrorCode::Busy };
            took.refusals.push(self.refuse(code, no_room.why(), op));
        }
        took
    }

    /// Something other than the next part arrived: a change under way is
    /// abandoned (parts come one after another), and its refusal is returned.
    pub(super) fn interrupted(&mut self) -> Option<ServerMsg> {
        let abandoned = self.current.take()?;
        let why = format!(
            "change {} stopped after part {} of {}: its parts must come together",
            abandoned.op, abandoned.next, abandoned.parts
        );
        // Its room is free at once: no penalty (what costs the others is holding room, stalled).
        Some(self.refuse(ErrorCode::BadBatch, why, abandoned.op))
    }

    /// A part on a view-only connection: refused once per change.
    pub(super) fn read_only(&mut self, op: u64) -> Option<ServerMsg> {
        (self.refused != Some(op)).then(|| {
            self.refused = Some(op);
            super::frames::read_only(op)
        })
    }

    fn refuse(&mut self, code: ErrorCode, why: String, op: u64) -> ServerMsg {
        self.refused = Some(op);
        ServerMsg::error(code, why, Some(op))
    }
}
