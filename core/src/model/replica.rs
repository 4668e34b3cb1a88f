//! A browser tab's copy of the board: what the server confirmed, plus the tab's
//! own changes that are still on their way.
//!
//! The tab applies its own changes at once (so the UI never waits for the
//! network) and the server's ordered stream is the truth. The invariant is
//! `view == confirmed + pending` (pending changes re-applied in order, dropping
//! any that no longer fit), so a change from someone else slots in underneath
//! the tab's own unconfirmed ones, exactly where the server ordered it.

use std::collections::VecDeque;

use super::board::Board;
use super::change::{Change, ChangeError};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplicaError {
    /// A sequence number was skipped or repeated: this copy can no longer be
    /// trusted and must be rebuilt from a fresh snapshot.
    #[error("expected change {expected} from the server, got {got}")]
    OutOfOrder { expected: u64, got: u64 },
    /// The server's change does not apply to the confirmed board: the two have
    /// diverged, which also calls for a fresh snapshot.
    #[error("the server's change {seq} does not apply here: {source}")]
    Diverged { seq: u64, source: ChangeError },
    /// A welcome's board came in parts out of turn, or does not make a board.
    #[error("the welcome's board is not one this tab can take: {0}")]
    BadBoard(String),
}

#[derive(Debug, Clone, Default)]
pub struct Replica {
    confirmed: Board,
    seq: u64,
    /// Whether `confirmed` is the server's board as of `seq`: false until the
    /// first welcome, and again after anything that casts doubt on it.
    synced: bool,
    pending: VecDeque<(u64, Change)>,
    view: Board,
    next_op: u64,
}

/// What a tab keeps of its replica across a reload: its own unconfirmed
/// changes and where its op numbering stands (the board itself comes back
/// from the server).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Unsent {
    pub next_op: u64,
    pub pending: Vec<(u64, Change)>,
}

impl Replica {
    pub fn new() -> Self {
        Replica { next_op: 1, ..Replica::default() }
    }

    /// A replica that picks up where a previous page left off: its pending
    /// changes are shown at once and sent after the next welcome.
    pub fn restore(unsent: Unsent) -> Self {
        let mut r = Replica { next_op: unsent.next_op.max(1), ..Replica::default() };
        r.pending = unsent.pending.into_iter().filter(|(op, _)| *op < r.next_op).collect();
        // Until the welcome brings the board, show what can be shown; nothing
        // is dropped yet (a move of a shape we do not have yet is still good).
        for (_, change) in &r.pending {
            let _ = r.view.apply(change);
        }
        r
    }

    /// What to keep across a reload.
    pub fn unsent(&self) -> Unsent {
        Unsent { next_op: self.next_op, pending: self.pending.iter().cloned().collect() }
    }

    /// The `seq` of the server's board this replica holds, when it holds one
    /// it can vouch for: a reconnect then asks only for what came after.
    pub fn base(&self) -> Option<u64> {
        self.synced.then_some(self.seq)
    }

    /// What the tab shows: the server's board with the tab's own changes on top.
    pub fn view(&self) -> &Board {
        &self.view
    }

    /// The last sequence number applied from the server.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The tab's changes the server has not confirmed yet, oldest first.
    pub fn pending(&self) -> impl ExactSizeIterator<Item = &(u64, Change)> {
        self.pending.iter()
    }

    /// Applies a change made in this tab. Returns the op number to send it
    /// with, or the reason it does not apply (then nothing is sent).
    pub fn local(&mut self, change: Change) -> Result<u64, ChangeError> {
        self.view.apply(&change)?;
        let op = self.next_op;
        self.next_op += 1;
        self.pending.push_back((op, change));
        Ok(op)
    }

    /// Like `local`, but a move that follows a pending move of the same shape
    /// replaces it: for changes that will not be sent yet (the tab is
    /// offline), so a long drag waits as one change, not one per frame. The
    /// replaced change may have reached the server before the drop; either way
    /// a move is absolute and nothing pending after it depends on it.
    pub fn local_unsent(&mut self, change: Change) -> Result<u64, ChangeError> {
        let supersedes = matches!(
            (&change, self.pending.back()),
            (Change::Move { id, .. }, Some((_, Change::Move { id: last, .. }))) if id == last
        );
        let op = self.local(change)?;
        if supersedes {
            let newest = self.pending.pop_back();
            self.pending.pop_back();
            self.pending.extend(newest);
        }
        Ok(op)
    }

    /// Starts over from a snapshot (on every connect). `last_op` is the last of
    /// our changes the server recorded: those up to it are in the snapshot
    /// already and are dropped; the rest stay pending, re-applied on top, and
    /// the caller sends them again.
    pub fn reset(&mut self, seq: u64, board: Board, last_op: u64) {
        self.seq = seq;
        self.confirmed = board;
        self.synced = true;
        self.after_answer(last_op);
    }

    /// What both answers to a hello imply: our changes up to `last_op` are in,
    /// and new ones must be numbered above it (a tab restored from an older
    /// save must not have every new change refused as stale).
    fn after_answer(&mut self, last_op: u64) {
        self.pending.retain(|(op, _)| *op > last_op);
        self.next_op = self.next_op.max(last_op + 1);
        self.rebuild_view();
    }

    /// The other way to start a connection: the server sent the changes after
    /// `from`, which must be the `seq` we hold. `last_op` is as for `reset`.
    pub fn catch_up(&mut self, from: u64, changes: &[Change], last_op: u64) -> Result<(), ReplicaError> {
        if !self.synced || from != self.seq {
            self.synced = false;
            return Err(ReplicaError::OutOfOrder { expected: self.seq, got: from });
        }
        for change in changes {
            let seq = self.seq + 1;
            if let Err(source) = self.confirmed.apply(change) {
                self.synced = false;
                return Err(ReplicaError::Diverged { seq, source });
            }
            self.seq = seq;
        }
        self.after_answer(last_op);
        Ok(())
    }

    /// Applies a change the server ordered. `op` is set when the change is our
    /// own (the server marks only the author's copy).
    pub fn applied(&mut self, seq: u64, op: Option<u64>, change: &Change) -> Result<(), ReplicaError> {
        if seq != self.seq + 1 {
            self.synced = false;
            return Err(ReplicaError::OutOfOrder { expected: self.seq + 1, got: seq });
        }
        if let Err(source) = self.confirmed.apply(change) {
            self.synced = false;
            return Err(ReplicaError::Diverged { seq, source });
        }
        self.seq = seq;
        let ours_in_order = op.is_some() && self.pending.front().is_some_and(|(o, c)| Some(*o) == op && c == change);
        if ours_in_order {
            // The view already shows this change in this very position.
            self.pending.pop_front();
            return Ok(());
        }
        if let Some(op) = op {
            // Ours, but not the one we expected next: forget it either way.
            self.pending.retain(|(o, _)| *o != op);
        }
        // With nothing of ours on top, the view moves in step with the server
        // (the two are equal, so this cannot fail; if it ever did, rebuild).
        if !self.pending.is_empty() || self.view.apply(change).is_err() {
            self.rebuild_view();
        }
        Ok(())
    }

    /// The server refused our change `op`: drop it and show the board without it.
    pub fn rejected(&mut self, op: u64) {
        let before = self.pending.len();
        self.pending.retain(|(o, _)| *o != op);
        if self.pending.len() != before {
            self.rebuild_view();
        }
    }

    fn rebuild_view(&mut self) {
        let mut view = self.confirmed.clone();
        // A pending change that no longer applies (its shape was deleted by
        // someone else, say) is dropped: the server will refuse it too.
        self.pending.retain(|(_, change)| view.apply(change).is_ok());
        self.view = view;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::{create, id};

    #[test]
    fn own_change_shows_at_once_and_confirms_quietly() {
        let mut r = Replica::new();
        let op = r.local(create("a", 1.0)).unwrap();
        assert_eq!(r.view().len(), 1);
        assert_eq!(r.pending().len(), 1);
        r.applied(1, Some(op), &create("a", 1.0)).unwrap();
        assert_eq!(r.pending().len(), 0);
        assert_eq!(r.view().len(), 1);
    }

    #[test]
    fn remote_changes_slot_in_under_pending_ones() {
        let mut r = Replica::new();
        r.reset(0, Board::new(), 0);
        r.applied(1, None, &create("a", 1.0)).unwrap();
        let op = r.local(Change::Move { id: id("a"), x: 50.0, y: 0.0 }).unwrap();
        // Someone else moves it first in server order; ours is still on top.
        r.applied(2, None, &Change::Move { id: id("a"), x: 10.0, y: 0.0 }).unwrap();
        assert_eq!(r.view().get(&id("a")).map(|s| s.x), Some(50.0));
        r.applied(3, Some(op), &Change::Move { id: id("a"), x: 50.0, y: 0.0 }).unwrap();
        assert_eq!(r.view().get(&id("a")).map(|s| s.x), Some(50.0));
    }

    #[test]
    fn pending_change_on_a_deleted_shape_is_dropped() {
        let mut r = Replica::new();
        r.applied(1, None, &create("a", 1.0)).unwrap();
        r.local(Change::Move { id: id("a"), x: 50.0, y: 0.0 }).unwrap();
        r.applied(2, None, &Change::Delete { id: id("a") }).unwrap();
        assert!(r.view().is_empty());
        assert_eq!(r.pending().len(), 0);
    }

    #[test]
    fn rejection_rolls_back() {
        let mut r = Replica::new();
        let op = r.local(create("a", 1.0)).unwrap();
        r.rejected(op);
        assert!(r.view().is_empty());
    }

    #[test]
    fn a_reconnect_drops_what_the_server_already_recorded() {
        let mut r = Replica::new();
        let first = r.local(create("a", 1.0)).unwrap();
        let second = r.local(Change::Move { id: id("a"), x: 9.0, y: 0.0 }).unwrap();
        // The connection dropped; the server had recorded the create only.
        let mut board = Board::new();
        board.apply(&create("a", 1.0)).unwrap();
        r.reset(1, board, first);
        assert_eq!(r.pending().map(|(op, _)| *op).collect::<Vec<_>>(), [second]);
        assert_eq!(r.view().get(&id("a")).map(|s| s.x), Some(9.0));
    }

    #[test]
    fn gaps_are_detected() {
        let mut r = Replica::new();
        let err = r.applied(2, None, &create("a", 1.0)).unwrap_err();
        assert_eq!(err, ReplicaError::OutOfOrder { expected: 1, got: 2 });
    }
    #[test]
    fn catching_up_applies_the_missed_changes_under_pending_ones() {
        let mut r = Replica::new();
        assert_eq!(r.base(), None, "nothing to resume from before the first welcome");
        r.reset(0, Board::new(), 0);
        r.applied(1, None, &create("a", 1.0)).unwrap();
        let first = r.local(create("b", 200.0)).unwrap();
        let second = r.local(Change::Move { id: id("a"), x: 30.0, y: 0.0 }).unwrap();
        assert_eq!(r.base(), Some(1));
        // Dropped; meanwhile the server recorded someone's create and our first change.
        r.catch_up(1, &[create("c", 400.0), create("b", 200.0)], first).unwrap();
        assert_eq!(r.seq(), 3);
        assert_eq!(r.pending().map(|(op, _)| *op).collect::<Vec<_>>(), [second]);
        assert_eq!(r.view().len(), 3);
        assert_eq!(r.view().get(&id("a")).map(|s| s.x), Some(30.0));
    }

    #[test]
    fn a_catch_up_from_elsewhere_is_refused_and_forces_a_snapshot() {
        let mut r = Replica::new();
        r.reset(5, Board::new(), 0);
        assert!(r.catch_up(4, &[], 0).is_err());
        assert_eq!(r.base(), None);
        r.reset(7, Board::new(), 0);
        assert_eq!(r.base(), Some(7));
        assert!(r.applied(9, None, &create("a", 1.0)).is_err());
        assert_eq!(r.base(), None);
    }

    #[test]
    fn offline_drags_wait_as_one_change() {
        let mut r = Replica::new();
        r.reset(0, Board::new(), 0);
        r.local_unsent(create("a", 1.0)).unwrap();
        for x in 2..50 {
            r.local_unsent(Change::Move { id: id("a"), x: f64::from(x), y: 0.0 }).unwrap();
        }
        r.local_unsent(create("b", 300.0)).unwrap();
        r.local_unsent(Change::Move { id: id("a"), x: 60.0, y: 0.0 }).unwrap();
        let kinds: Vec<_> = r.pending().map(|(_, c)| c.clone()).collect();
        assert_eq!(kinds.len(), 4, "create, one move, create, move: {kinds:?}");
        assert_eq!(kinds[1], Change::Move { id: id("a"), x: 49.0, y: 0.0 });
        let ops: Vec<u64> = r.pending().map(|(op, _)| *op).collect();
        assert!(ops.windows(2).all(|w| w[0] < w[1]), "ops still increase: {ops:?}");
        assert_eq!(r.view().get(&id("a")).map(|s| s.x), Some(60.0));
    }

    #[test]
    fn unsent_changes_survive_a_reload() {
        let mut r = Replica::new();
        r.reset(0, Board::new(), 0);
        r.applied(1, None, &create("a", 1.0)).unwrap();
        r.local(Change::Move { id: id("a"), x: 70.0, y: 0.0 }).unwrap();
        let saved = serde_json::to_string(&r.unsent()).unwrap();
        // A new page: the move waits, even though the board has not arrived.
        let mut again = Replica::restore(serde_json::from_str(&saved).unwrap());
        assert_eq!(again.pending().len(), 1);
        let mut board = Board::new();
        board.apply(&create("a", 1.0)).unwrap();
        again.reset(1, board, 0);
        assert_eq!(again.view().get(&id("a")).map(|s| s.x), Some(70.0));
        assert_eq!(again.local(create("z", 500.0)).unwrap(), 2, "op numbering continues");
    }
    #[test]
    fn numbering_resumes_above_what_the_server_has() {
        // A tab restored from a save older than its last sent change.
        let mut r = Replica::restore(Unsent { next_op: 3, pending: Vec::new() });
        r.reset(9, Board::new(), 20);
        assert_eq!(r.local(create("a", 1.0)).unwrap(), 21, "not refused as stale");
    }
}
