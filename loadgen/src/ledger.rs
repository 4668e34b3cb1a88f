//! What was due when, and who got what: the senders' schedules, shared by every
//! task of a run, and each receiver's tally of lost, duplicated and
//! out-of-order deliveries.
//!
//! A change is named by its [`Mark`]: the sender's number and the change's
//! counter (1, 2, …). The mark travels inside the change itself (the shape's id
//! names the sender, its position encodes the counter), so a receiver needs
//! nothing but the message to know whose change it holds and when it was due.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::report::Latencies;
use sketchboard_core::model::{Change, CharId, ShapeId};

/// Counters are laid out on the board in rows of this many units, so counter
/// `k` puts the shape at (`k mod 1000`, `k div 1000`).
const ROW: u64 = 1000;
/// A circle (120 × 120) fits up to y = 880 on the 1000-high board.
pub(crate) const MAX_COUNTER: u64 = 880 * ROW + (ROW - 1);

/// One change of one sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mark {
    pub sender: u32,
    pub counter: u64,
}

impl Mark {
    /// The shape a sender moves: its id names the sender, which is all a
    /// receiver needs to attribute a move (ids are unique within a room only,
    /// and every sender number is unique within a run).
    pub(crate) fn shape_id(sender: u32) -> ShapeId {
        ShapeId::parse(format!("s{sender}")).expect("\"s\" and digits make a valid shape id")
    }

    /// The move that carries this mark.
    pub(crate) fn to_move(self) -> Change {
        Change::Move { id: Self::shape_id(self.sender), x: (self.counter % ROW) as f64, y: (self.counter / ROW) as f64 }
    }

    /// The keystroke that carries this mark (scenario 12): one letter typed
    /// in the sender's shape after its last one, its id naming the counter
    /// (writer `sender + 1`, count `counter − 1`).
    pub(crate) fn to_write(self) -> Change {
        let writer = self.sender + 1;
        let count = (self.counter - 1) as u32;
        let after = count.checked_sub(1).map(|n| CharId(writer, n));
        Change::Write { id: Self::shape_id(self.sender), after, at: CharId(writer, count), text: "a".to_owned() }
    }

    /// The mark a change carries, if it is one of the generator's moves or keystrokes.
    pub(crate) fn from_change(change: &Change) -> Option<Mark> {
        if let Change::Write { id, at, .. } = change {
            let sender: u32 = id.as_str().strip_prefix('s')?.parse().ok()?;
            return (at.0 == sender + 1).then_some(Mark { sender, counter: u64::from(at.1) + 1 });
        }
        let Change::Move { id, x, y } = change else { return None };
        let sender = id.as_str().strip_prefix('s')?.parse().ok()?;
        let whole = |v: f64| (v.fract() == 0.0 && v >= 0.0).then_some(v as u64);
        let (x, y) = (whole(*x)?, whole(*y)?);
        (x < ROW).then_some(Mark { sender, counter: y * ROW + x })
    }
}

/// Everything the tasks of one run share. Send instants are not stored one by
/// one: each sender's schedule is `start + offset + (k − 1) · period`, so the
/// ledger keeps the schedule and derives the instant of any counter from it.
pub(crate) struct Ledger {
    start: OnceLock<Instant>,
    period: Duration,
    books: Vec<Book>,
    /// First copies received, over all receivers.
    pub delivered: AtomicU64,
    /// Authors' own confirmations of their moves.
    pub acked: AtomicU64,
    /// Authors' confirmations of the shape each created before the start.
    pub created: AtomicU64,
    /// From the scheduled send to each receiver's copy.
    pub latency: Latencies,
    /// From the scheduled send to the copy of the last receiver in the room.
    pub fanout: Latencies,
    /// From the scheduled send to the author's own confirmation.
    pub ack: Latencies,
}

/// One sender's row.
struct Book {
    /// How many connections should receive each of its changes.
    audience: u32,
    /// Where in the period this sender's sends fall, so that many senders do
    /// not all fire in the same instant.
    offset: Duration,
    /// The highest counter sent so far.
    sent: AtomicU64,
    /// Per counter, how many receivers have it.
    reached: Box<[AtomicU32]>,
}

/// What the ledger must know about one sender before the run.
pub(crate) struct SenderPlan {
    pub audience: u32,
    pub offset: Duration,
}

impl Ledger {
    pub(crate) fn new(period: Duration, changes: u64, senders: impl IntoIterator<Item = SenderPlan>) -> Ledger {
        let books = senders
            .into_iter()
            .map(|s| Book {
                audience: s.audience,
                offset: s.offset,
                sent: AtomicU64::new(0),
                reached: (0..=changes).map(|_| AtomicU32::new(0)).collect(),
            })
            .collect();
        Ledger {
            start: OnceLock::new(),
            period,
            books,
            delivered: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            created: AtomicU64::new(0),
            latency: Latencies::new(),
            fanout: Latencies::new(),
            ack: Latencies::new(),
        }
    }

    /// Fixes the instant the schedule counts from.
    pub(crate) fn begin(&self, start: Instant) {
        let _ = self.start.set(start);
    }

    /// When `mark` was due to be sent; `None` before the run began or for a
    /// sender this run does not have.
    pub(crate) fn due(&self, mark: Mark) -> Option<Instant> {
        let book = self.books.get(mark.sender as usize)?;
        let steps = u32::try_from(mark.counter.checked_sub(1)?).ok()?;
        Some(*self.start.get()? + book.offset + self.period * steps)
    }

    pub(crate) fn record_sent(&self, mark: Mark) {
        if let Some(book) = self.books.get(mark.sender as usize) {
            book.sent.fetch_max(mark.counter, Ordering::Relaxed);
        }
    }

    pub(crate) fn sent(&self) -> u64 {
        self.books.iter().map(|b| b.sent.load(Ordering::Relaxed)).sum()
    }

    /// Copies that should have arrived for what was sent so far.
    pub(crate) fn expected(&self) -> u64 {
        self.books.iter().map(|b| b.sent.load(Ordering::Relaxed) * u64::from(b.audience)).sum()
    }

    /// Counts one receiver's first copy of `mark`; true if it was the last of
    /// the room to get it.
    fn reached(&self, mark: Mark) -> bool {
        let Some(book) = self.books.get(mark.sender as usize) else { return false };
        let Some(count) = book.reached.get(mark.counter as usize) else { return false };
        count.fetch_add(1, Ordering::Relaxed) + 1 == book.audience
    }
}

/// One receiver's account of what it got.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub unique: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    /// `error` messages from the server, and messages it could not read.
    pub errors: u64,
    /// Connections that ended before the run did.
    pub disconnects: u64,
    /// The first thing that went wrong, for the report.
    pub first_problem: Option<String>,
    /// When the latest first copy arrived.
    pub last_delivery: Option<Instant>,
    seen: HashMap<u32, Seen>,
}

/// The counters received from one sender.
#[derive(Debug, Default)]
struct Seen {
    bits: Vec<u64>,
    highest: u64,
}

impl Seen {
    /// Marks `counter` as received; false if it already was.
    fn insert(&mut self, counter: u64) -> bool {
        let (word, bit) = ((counter / 64) as usize, counter % 64);
        if self.bits.len() <= word {
            self.bits.resize(word + 1, 0);
        }
        let fresh = self.bits[word] & (1 << bit) == 0;
        self.bits[word] |= 1 << bit;
        fresh
    }
}

impl Tally {
    /// A copy of `mark` arrived at `at`.
    pub(crate) fn delivery(&mut self, ledger: &Ledger, mark: Mark, at: Instant) {
        let seen = self.seen.entry(mark.sender).or_default();
        if !seen.insert(mark.counter) {
            self.duplicated += 1;
            return;
        }
        // The room has one order, and a sender's changes enter it in the order
        // sent, so each receiver must see a sender's counters ascending.
        if mark.counter < seen.highest {
            self.out_of_order += 1;
        }
        seen.highest = seen.highest.max(mark.counter);
        self.unique += 1;
        self.last_delivery = self.last_delivery.max(Some(at));
        ledger.delivered.fetch_add(1, Ordering::Relaxed);
        let Some(due) = ledger.due(mark) else {
            self.problem(format!("received {mark:?}, which this run never scheduled"));
            return;
        };
        ledger.latency.record(at.saturating_duration_since(due));
        if ledger.reached(mark) {
            ledger.fanout.record(at.saturating_duration_since(due));
        }
    }

    /// The author's own confirmation of `mark` arrived at `at`.
    pub(crate) fn ack(&mut self, ledger: &Ledger, mark: Mark, at: Instant) {
        ledger.acked.fetch_add(1, Ordering::Relaxed);
        match ledger.due(mark) {
            Some(due) => ledger.ack.record(at.saturating_duration_since(due)),
            None => self.problem(format!("confirmation of {mark:?}, which this run never scheduled")),
        }
    }

    /// Something went wrong that the report should count and show.
    pub(crate) fn problem(&mut self, what: String) {
        tracing::debug!(%what, "problem");
        self.errors += 1;
        self.first_problem.get_or_insert(what);
    }

    /// Adds another receiver's counts to these.
    pub(crate) fn absorb(&mut self, other: Tally) {
        self.unique += other.unique;
        self.duplicated += other.duplicated;
        self.out_of_order += other.out_of_order;
        self.errors += other.errors;
        self.disconnects += other.disconnects;
        self.last_delivery = self.last_delivery.max(other.last_delivery);
        if self.first_problem.is_none() {
            self.first_problem = other.first_problem;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sketchboard_core::model::{Board, Shape, ShapeKind};

    #[test]
    fn marks_round_trip_and_stay_on_the_board() {
        for counter in [1, 999, 1000, 123_456, MAX_COUNTER] {
            let mark = Mark { sender: 42, counter };
            let change = mark.to_move();
            assert_eq!(Mark::from_change(&change), Some(mark));
            assert_eq!(Mark::from_change(&mark.to_write()), Some(mark), "a keystroke carries its mark too");
            let mut board = Board::new();
            let shape = Shape::new(Mark::shape_id(42), ShapeKind::Circle, 0.0, 0.0);
            board.apply(&Change::Create { shape }).unwrap();
            assert_eq!(board.apply(&change), Ok(()), "counter {counter} must stay on the board");
        }
    }

    #[test]
    fn tally_counts_duplicates_and_disorder() {
        let ledger = Ledger::new(Duration::from_millis(10), 4, [SenderPlan { audience: 1, offset: Duration::ZERO }]);
        ledger.begin(Instant::now());
        let mut tally = Tally::default();
        for counter in [1, 3, 2, 3] {
            tally.delivery(&ledger, Mark { sender: 0, counter }, Instant::now());
        }
        assert_eq!((tally.unique, tally.duplicated, tally.out_of_order), (3, 1, 1));
        assert_eq!(ledger.fanout.summary().map(|s| s.count), Some(3));
    }
}
