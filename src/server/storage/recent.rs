//! A room's latest changes, kept at hand (and loaded with the room) to catch
//! up a reconnecting client without sending it a whole snapshot. Bounded by
//! count and by weight (a batch counts as its changes), so a few board-sized
//! imports do not make it a gigabyte; the weight is a running total, so
//! adding a change costs the same however full it is.

use std::collections::VecDeque;

use sketchboard_core::model::{Change, MAX_BATCH};

/// The most changes kept.
pub(super) const RECENT_CHANGES: usize = 512;
/// The most weight kept (a batch counts as its changes).
pub(super) const RECENT_WEIGHT: usize = MAX_BATCH;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recent {
    changes: VecDeque<Change>,
    /// The weight of `changes`, kept up to date as they come and go.
    weight: usize,
}

impl Recent {
    /// Adds `change`, dropping the oldest while more than `RECENT_CHANGES`
    /// changes or `RECENT_WEIGHT` of weight are kept (the newest always stays).
    pub fn push(&mut self, change: Change) {
        self.weight += change.parts().len();
        self.changes.push_back(change);
        while self.changes.len() > 1 && (self.changes.len() > RECENT_CHANGES || self.weight > RECENT_WEIGHT) {
            if let Some(old) = self.changes.pop_front() {
                self.weight -= old.parts().len();
            }
        }
    }

    /// Forgets everything (a hole in the log: nothing before it can catch a client up).
    pub fn clear(&mut self) {
        self.changes.clear();
        self.weight = 0;
    }

    pub fn len(&self) -> usize {
        self.changes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The last `n` changes (all of them if fewer are kept), oldest first.
    pub fn last(&self, n: usize) -> impl Iterator<Item = &Change> {
        self.changes.range(self.changes.len().saturating_sub(n)..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sketchboard_core::model::{Shape, ShapeId, ShapeKind};

    fn create(id: &str, x: f64) -> Change {
        Change::Create { shape: Shape::new(ShapeId::parse(id).unwrap(), ShapeKind::Circle, x, 0.0) }
    }

    #[test]
    fn keeps_the_newest_by_count_and_by_weight_and_always_the_latest() {
        let mut recent = Recent::default();
        for i in 0..RECENT_CHANGES + 10 {
            recent.push(create(&format!("s{i}"), 0.0));
        }
        assert_eq!(recent.len(), RECENT_CHANGES);
        assert_eq!(recent.last(1).next(), Some(&create(&format!("s{}", RECENT_CHANGES + 9), 0.0)));
        // One batch heavier than the whole allowance still stays: it is the latest.
        let heavy: Vec<Change> = (0..RECENT_WEIGHT + 1).map(|i| create(&format!("h{i}"), 0.0)).collect();
        recent.push(Change::Batch { changes: heavy });
        assert_eq!(recent.len(), 1);
        recent.push(create("after", 0.0));
        assert_eq!(recent.len(), 1, "the heavy batch goes once something newer comes");
        assert_eq!(recent.weight, 1);
    }
}
