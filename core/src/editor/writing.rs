//! Writing in a shape. The browser shows a real text field over the shape
//! (so input methods, selection, copy and paste and screen readers work as
//! everywhere); each time the field's value changes, `Editor::typed` turns
//! the difference from the shape's text into an `erase` and a `write`
//! (`model::text`). Letters typed less than `NUDGE_BURST_MS` apart are one
//! undo step, as a burst of arrow keys is.
//!
//! Each time someone starts writing in a shape, the tab takes a new writer
//! number for its letters' ids (random, from the id source), so its ids never
//! meet another tab's or another session's.

use crate::model::{Change, CharId, ShapeId, Text};

use super::document::Document;
use super::machine::Editor;
use super::shared::{KeyBurst, Writing};

/// The most runs one `erase` names: one erase stays well within a message.
const RUNS_PER_ERASE: usize = 1_000;

/// A writer number from a fresh random id (FNV-1a of its text); never 0,
/// which is text that arrived whole.
fn writer_of(id: &ShapeId) -> u32 {
    let hash = id.as_str().bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    hash.max(1)
}

impl Editor {
    /// Starts writing in shape `id` (a double-click, or Enter on the
    /// selection): it becomes the selection. False if there is no such shape.
    pub fn start_writing(&mut self, doc: &dyn Document, id: &ShapeId) -> bool {
        if doc.view().get(id).is_none() {
            return false;
        }
        let writer = writer_of(&(self.shared.new_id)());
        self.shared.writing = Some(Writing { id: id.clone(), writer, next: 0 });
        self.shared.select(vec![id.clone()]);
        true
    }

    /// Starts writing in the one selected shape (Enter); false if not exactly one is.
    pub fn write_in_selection(&mut self, doc: &dyn Document) -> bool {
        match self.shared.selected.as_slice() {
            [one] => {
                let one = one.clone();
                self.start_writing(doc, &one)
            }
            _ => false,
        }
    }

    /// The shape being written in, if any.
    pub fn writing(&self) -> Option<&ShapeId> {
        self.shared.writing.as_ref().map(|w| &w.id)
    }

    /// Ends writing (Escape, a click elsewhere, the shape gone).
    pub fn stop_writing(&mut self) {
        if self.shared.writing.take().is_some() {
            self.shared.last_burst = None;
            self.shared.dirty.redraw = true;
        }
    }

    /// The text field now holds `value`: sends what changed from the shape's
    /// text. Returns whether the board took it (false: the field should show
    /// the shape's text again, say because it went past the limit).
    pub fn typed(&mut self, doc: &mut dyn Document, value: &str, now_ms: f64) -> bool {
        let Some(writing) = &mut self.shared.writing else { return false };
        let Some(shape) = doc.view().get(&writing.id) else {
            self.stop_writing();
            return false;
        };
        let changes = edit(&shape.text, value, &writing.id, writing.writer, &mut writing.next);
        if changes.is_empty() {
            return true;
        }
        let done = self.shared.act_in_burst(doc, changes, KeyBurst::Type, now_ms);
        self.settle();
        done
    }
}

/// The changes that turn `text` into `value`: the characters between what
/// the two share at the start and at the end are erased, and the new ones
/// written after the last shared one, numbered from `next`.
fn edit(text: &Text, value: &str, id: &ShapeId, writer: u32, next: &mut u32) -> Vec<Change> {
    let old: Vec<(CharId, char)> = text.shown_chars().collect();
    let new: Vec<char> = value.chars().collect();
    let start = old.iter().zip(&new).take_while(|((_, a), b)| a == *b).count();
    let room = old.len().min(new.len()) - start;
    let end = old.iter().rev().zip(new.iter().rev()).take(room).take_while(|((_, a), b)| a == *b).count();
    let gone: Vec<CharId> = old[start..old.len() - end].iter().map(|(c, _)| *c).collect();
    let added: String = new[start..new.len() - end].iter().collect();
    let mut changes: Vec<Change> = Text::runs_of(&gone)
        .chunks(RUNS_PER_ERASE)
        .map(|runs| Change::Erase { id: id.clone(), chars: runs.to_vec() })
        .collect();
    if !added.is_empty() {
        let at = CharId(writer, *next);
        *next = next.saturating_add(added.chars().count() as u32);
        let after = start.checked_sub(1).map(|i| old[i].0);
        changes.push(Change::Write { id: id.clone(), after, at, text: added });
    }
    changes
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::Run;

    fn id() -> ShapeId {
        ShapeId::parse("n").unwrap()
    }

    #[test]
    fn a_change_of_the_field_is_the_least_erase_and_write() {
        let text = Text::whole("Buy milk").unwrap();
        let mut next = 0;
        // "milk" → "oat milk": one write after "Buy ".
        let changes = edit(&text, "Buy oat milk", &id(), 7, &mut next);
        let expected = Change::Write { id: id(), after: Some(CharId(0, 3)), at: CharId(7, 0), text: "oat ".into() };
        assert_eq!(changes, [expected]);
        assert_eq!(next, 4);
        // A selection replaced: erase it, write after what is before it.
        let changes = edit(&text, "Buy tea", &id(), 7, &mut next);
        assert_eq!(changes[0], Change::Erase { id: id(), chars: vec![Run(0, 4, 4)] });
        assert_eq!(
            changes[1],
            Change::Write { id: id(), after: Some(CharId(0, 3)), at: CharId(7, 4), text: "tea".into() }
        );
        // Everything erased; a letter typed twice in a row ("ll") diffs to one letter.
        assert_eq!(edit(&text, "", &id(), 7, &mut next), [Change::Erase { id: id(), chars: vec![Run(0, 0, 8)] }]);
        let changes = edit(&text, "Buy mill k", &id(), 7, &mut next);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert!(edit(&text, "Buy milk", &id(), 7, &mut next).is_empty());
    }
}
