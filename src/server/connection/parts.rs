//! Changes sent in parts (`ClientMsg::Part`): a batch too large for one
//! message is put back together here, before the room sees it, so the room
//! takes it as one change like any other (one `op`, one recorded change).
//!
//! What one connection may hold is bounded by the protocol: one change at a
//! time, of at most `MAX_PARTS` messages of at most `MAX_MESSAGE_BYTES`, and
//! at most `MAX_BATCH` changes, each part within `PART_WITHIN` of the one
//! before. What all connections together hold is bounded by the server's
//! `PartsBudget`, taken whole at a change's first part (so a change under way
//! never waits for room, and no two can hold each other up) and held until the
//! room has taken the change in; one address may hold a quarter of it. A
//! change that finds no room is refused with `busy`; its client sends it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::server::fairness::Network;
use sketchboard_core::model::{Change, MAX_BATCH};
use sketchboard_core::protocol::{ErrorCode, MAX_MESSAGE_BYTES, ServerMsg};

/// How many bytes of changes in parts a server holds at once, all
/// connections together: sixteen full boards' worth.
pub const PARTS_BUDGET_BYTES: usize = 64 * 1024 * 1024;

/// How long a change in parts may wait for its next part.
pub(super) const PART_WITHIN: Duration = Duration::from_secs(10);

/// The budget is counted in KiB (a semaphore's permits are a `u32`).
const UNIT: usize = 1024;

/// The server's room for changes under way in parts, shared by its connections.
#[derive(Clone)]
pub(crate) struct PartsBudget {
    room: Arc<Semaphore>,
    /// What each address holds of it, in units.
    held: Arc<Mutex<HashMap<Network, usize>>>,
    /// What one address may hold, in units.
    per_address: usize,
}

/// Room reserved for one change, given back when dropped: once the change is
/// whole and the room has taken it, or abandoned.
#[derive(Debug)]
pub(super) struct Reserved {
    _room: OwnedSemaphorePermit,
    units: usize,
    network: Network,
    held: Arc<Mutex<HashMap<Network, usize>>>,
}

impl Drop for Reserved {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = held.get_mut(&self.network) {
            *n = n.saturating_sub(self.units);
            if *n == 0 {
                held.remove(&self.network);
            }
        }
    }
}

impl PartsBudget {
    pub(crate) fn new(bytes: usize) -> PartsBudget {
        let units = bytes / UNIT;
        PartsBudget { room: Arc::new(Semaphore::new(units)), held: Arc::default(), per_address: units / 4 }
    }

    /// Room for a change of `parts` messages from `network`, if there is that
    /// much, and that address holds no more than its share.
    fn reserve(&self, parts: u32, network: Network) -> Option<Reserved> {
        let units = parts as usize * MAX_MESSAGE_BYTES / UNIT;
        let mut held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mine = held.get(&network).copied().unwrap_or(0);
        if mine + units > self.per_address {
            return None;
        }
        let room = self.room.clone().try_acquire_many_owned(u32::try_from(units).ok()?).ok()?;
        held.insert(network, mine + units);
        Some(Reserved { _room: room, units, network, held: self.held.clone() })
    }

    /// Bytes free now.
    #[cfg(test)]
    fn available(&self) -> usize {
        self.room.available_permits() * UNIT
    }
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

impl Assembler {
    pub(super) fn new(budget: PartsBudget, network: Network) -> Assembler {
        Assembler { budget, network, current: None, refused: None }
    }

    /// When the change under way stops waiting for its next part, if one is.
    pub(super) fn due(&self) -> Option<Instant> {
        self.current.as_ref().map(|a| a.due)
    }

    /// Gives the change under way another `PART_WITHIN` (the wait was not its client's).
    pub(super) fn postpone(&mut self) {
        if let Some(a) = self.current.as_mut() {
            a.due = Instant::now() + PART_WITHIN;
        }
    }

    /// The change under way waited too long for its next part: abandoned.
    pub(super) fn expired(&mut self) -> Option<ServerMsg> {
        let stalled = self.current.take_if(|a| Instant::now() >= a.due)?;
        let why =
            format!("change {} waited over {PART_WITHIN:?} for part {} of {}", stalled.op, stalled.next, stalled.parts);
        Some(self.refuse(ErrorCode::BadBatch, why, stalled.op))
    }

    /// Takes part `part` of `parts` of change `op` (checked already: `part <
    /// parts`, `2 <= parts <= MAX_PARTS`, at least one change).
    pub(super) fn part(&mut self, op: u64, part: u32, parts: u32, changes: Vec<Change>) -> Took {
        let mut took = Took::default();
        if part == 0 {
            took.refusals.extend(self.interrupted());
            let Some(room) = self.budget.reserve(parts, self.network) else {
                let why = "the server is taking in as many changes in parts as it can; send this one again shortly";
                took.refusals.push(self.refuse(ErrorCode::Busy, why.into(), op));
                return took;
            };
            let due = Instant::now() + PART_WITHIN;
            self.current = Some(Assembly { op, parts, next: 0, due, changes: Vec::new(), room });
        }
        let fits = self.current.as_ref().is_some_and(|a| a.op == op && a.next == part && a.parts == parts);
        if !fits {
            took.refusals.extend(self.interrupted());
            if self.refused != Some(op) {
                let why =
                    format!("part {part} of {parts} of change {op} does not follow on: parts come 0 first, in order");
                took.refusals.push(self.refuse(ErrorCode::BadBatch, why, op));
            }
            return took;
        }
        let Some(assembly) = self.current.as_mut() else { return took };
        if assembly.changes.len() + changes.len() > MAX_BATCH {
            self.current = None;
            let why = format!("a batch holds at most {MAX_BATCH} changes");
            took.refusals.push(self.refuse(ErrorCode::BadBatch, why, op));
            return took;
        }
        assembly.changes.extend(changes);
        assembly.next += 1;
        assembly.due = Instant::now() + PART_WITHIN;
        if assembly.next == assembly.parts
            && let Some(done) = self.current.take()
        {
            took.whole = Some((done.op, Change::Batch { changes: done.changes }, done.room));
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

#[cfg(test)]
mod tests {
    use super::*;
    use sketchboard_core::model::ShapeId;

    fn moves(n: usize) -> Vec<Change> {
        (0..n).map(|i| Change::Move { id: ShapeId::parse(format!("s{i}")).unwrap(), x: 1.0, y: 2.0 }).collect()
    }

    fn codes(took: &Took) -> Vec<ErrorCode> {
        took.refusals
            .iter()
            .filter_map(|m| if let ServerMsg::Error { code, .. } = m { Some(*code) } else { None })
            .collect()
    }

    #[test]
    fn parts_in_order_make_one_batch_and_give_their_room_back() {
        let budget = PartsBudget::new(PARTS_BUDGET_BYTES);
        let mut a = Assembler::new(budget.clone(), net(1));
        assert!(a.part(7, 0, 3, moves(2)).whole.is_none());
        assert_eq!(budget.available(), PARTS_BUDGET_BYTES - 3 * MAX_MESSAGE_BYTES, "room for three messages taken");
        assert!(a.part(7, 1, 3, moves(2)).whole.is_none());
        let Some((7, Change::Batch { changes }, room)) = a.part(7, 2, 3, moves(1)).whole else { panic!("whole") };
        assert_eq!(changes.len(), 5);
        assert!(budget.available() < PARTS_BUDGET_BYTES, "held while the room takes it in");
        drop(room);
        assert_eq!(budget.available(), PARTS_BUDGET_BYTES, "and given back");
    }

    #[test]
    fn a_part_out_of_place_refuses_the_change_once() {
        let mut a = Assembler::new(PartsBudget::new(PARTS_BUDGET_BYTES), net(1));
        assert_eq!(codes(&a.part(3, 1, 2, moves(1))), [ErrorCode::BadBatch], "no part 0");
        a.part(4, 0, 3, moves(1));
        assert_eq!(codes(&a.part(4, 2, 3, moves(1))), [ErrorCode::BadBatch], "a part skipped");
        assert!(a.part(4, 1, 3, moves(1)).refusals.is_empty(), "the rest of it dropped quietly");
        a.part(5, 0, 2, moves(1));
        assert_eq!(a.interrupted().map(|m| matches!(m, ServerMsg::Error { op: Some(5), .. })), Some(true));
        assert!(a.part(5, 1, 2, moves(1)).whole.is_none(), "an interrupted change never completes");
    }

    fn net(n: u8) -> Network {
        Network::of(std::net::IpAddr::from([10, 0, 0, n]))
    }

    #[test]
    fn no_room_means_busy_and_too_many_changes_a_bad_batch() {
        let budget = PartsBudget::new(16 * MAX_MESSAGE_BYTES);
        let mut a = Assembler::new(budget.clone(), net(1));
        assert!(a.part(1, 0, 4, moves(1)).refusals.is_empty());
        assert_eq!(codes(&a.part(2, 0, 5, moves(1))), [ErrorCode::BadBatch, ErrorCode::Busy], "one address: a quarter");
        let mut holders: Vec<Assembler> = (2..6).map(|n| Assembler::new(budget.clone(), net(n))).collect();
        for h in &mut holders {
            assert!(h.part(1, 0, 4, moves(1)).refusals.is_empty(), "other addresses have room");
        }
        assert_eq!(codes(&a.part(3, 0, 2, moves(1))), [ErrorCode::Busy], "the whole budget held");
        for part in 1..4 {
            holders[0].part(1, part, 4, moves(1));
        }
        assert!(a.part(4, 0, 2, moves(MAX_BATCH)).refusals.is_empty(), "room again once one is whole and taken in");
        assert_eq!(codes(&a.part(4, 1, 2, moves(1))), [ErrorCode::BadBatch], "past MAX_BATCH");
    }

    #[tokio::test(start_paused = true)]
    async fn a_change_that_stops_arriving_is_abandoned() {
        let budget = PartsBudget::new(PARTS_BUDGET_BYTES);
        let mut a = Assembler::new(budget.clone(), net(1));
        a.part(1, 0, 2, moves(1));
        assert!(a.expired().is_none(), "not yet");
        tokio::time::advance(PART_WITHIN).await;
        assert!(matches!(a.expired(), Some(ServerMsg::Error { code: ErrorCode::BadBatch, op: Some(1), .. })));
        assert_eq!((a.due(), budget.available()), (None, PARTS_BUDGET_BYTES), "its room given back");
    }
}
