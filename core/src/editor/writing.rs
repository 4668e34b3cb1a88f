//! Writing in a shape. The browser shows a real text field over the shape
//! (so input methods, selection, copy and paste and screen readers work as
//! everywhere). The editor keeps what that field shows, letter by letter
//! with each letter's id: each time the field's value changes,
//! `Editor::typed` turns the difference from what it showed into an `erase`
//! and a `write` anchored to those ids; and each frame, `Editor::field_text`
//! says what the field must show when others' letters changed the shape,
//! with the caret kept by the same letters. Typing is never compared with
//! the shape's latest text: a letter of someone else's that arrived between
//! a key and its `input` event is not the field's, and must not be erased.
//! Letters typed less than `NUDGE_BURST_MS` apart are one undo step, as a
//! burst of arrow keys is.
//!
//! Each time someone starts writing in a shape, the tab takes a new writer
//! number for its letters' ids (random, from the id source), so its ids never
//! meet another tab's or another session's.

use crate::model::{Change, CharId, ShapeId, ShapeKind, Text};

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

/// What the text field must show now, and where its selection goes (in
/// characters, not UTF-16 units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldText {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

impl Editor {
    /// Starts writing in shape `id` (a double-click, Enter on the
    /// selection, the Text tool): it becomes the selection, and writing in
    /// another shape stops. False if there is no such shape.
    pub fn start_writing(&mut self, doc: &mut dyn Document, id: &ShapeId) -> bool {
        if doc.view().get(id).is_none() {
            return false;
        }
        if self.writing().is_some_and(|was| was != id) {
            self.stop_writing(doc);
        }
        let writer = writer_of(&(self.shared.new_id)());
        self.shared.writing =
            Some(Writing { id: id.clone(), writer, next: 0, field: None, fresh: false, owns_empty: false });
        self.shared.select(vec![id.clone()]);
        true
    }

    /// Starts writing in the one selected shape (Enter); false if not exactly one is.
    pub fn write_in_selection(&mut self, doc: &mut dyn Document) -> bool {
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

    /// Ends writing (Escape, a click elsewhere, the shape gone). A text box
    /// this writing made or typed in, left with nothing but spaces in it, is
    /// deleted, as part of the last step if that made or wrote in it (a box
    /// made and left empty leaves nothing to undo); one someone else made and
    /// may still be writing in is theirs to keep.
    pub fn stop_writing(&mut self, doc: &mut dyn Document) {
        let Some(writing) = self.shared.writing.take() else { return };
        self.shared.last_burst = None;
        self.shared.dirty.redraw = true;
        let empty =
            doc.view().get(&writing.id).filter(|s| s.kind == ShapeKind::Text && s.text.shown().trim().is_empty());
        if writing.owns_empty && empty.is_some() {
            self.shared.act(doc, vec![Change::Delete { id: writing.id }], true);
            self.settle();
        }
    }

    /// What the text field must show, if the shape's text is not what it
    /// shows (it never was given it, or others' letters arrived): the text,
    /// and the selection's ends (`start`, `end`, in characters of what the
    /// field shows now) moved to stay by the same letters.
    pub fn field_text(&mut self, doc: &dyn Document, start: usize, end: usize) -> Option<FieldText> {
        let writing = self.shared.writing.as_mut()?;
        let text = &doc.view().get(&writing.id)?.text;
        if writing.field.as_ref().is_some_and(|field| text.shown_chars().eq(field.iter().copied())) {
            return None;
        }
        let field = writing.field.take().unwrap_or_default();
        // Each end by the id of the letter before it; an erased one counts where it was.
        let moved = |at: usize| match at.checked_sub(1).and_then(|i| field.get(i)) {
            Some((id, _)) => text.caret_after(*id),
            None => 0,
        };
        let (start, end) = (moved(start), moved(end));
        let now: Vec<(CharId, char)> = text.shown_chars().collect();
        let value = now.iter().map(|(_, c)| *c).collect();
        writing.field = Some(now);
        Some(FieldText { value, start, end })
    }

    /// The text field now holds `value`: sends what changed from what it
    /// showed. Returns whether the board took it (false: the field must show
    /// the shape's text again, which `field_text` then gives, say because it
    /// went past the limit).
    pub fn typed(&mut self, doc: &mut dyn Document, value: &str, now_ms: f64) -> bool {
        let Some(writing) = &mut self.shared.writing else { return false };
        let Some(shape) = doc.view().get(&writing.id) else {
            self.stop_writing(doc);
            return false;
        };
        let (size, mut text) = (shape.text_size, shape.text.clone());
        let Some(field) = &writing.field else { return false };
        let (mut changes, shown) = edit(field, value, &writing.id, writing.writer, &mut writing.next);
        if changes.is_empty() {
            return true;
        }
        writing.field = Some(shown);
        writing.owns_empty = true;
        let (id, fresh) = (writing.id.clone(), std::mem::take(&mut writing.fresh));
        // Fitted to the text as it will be, others' letters the field has not shown yet too.
        for change in &changes {
            match change {
                Change::Write { after, at, text: s, .. } if text.check_write(*after, *at, s).is_ok() => {
                    text.write(*after, *at, s);
                }
                Change::Erase { chars, .. } if text.check_erase(chars).is_ok() => text.erase(chars),
                _ => {}
            }
        }
        changes.extend(self.fit(doc, &id, &text.shown(), size));
        let done = if fresh {
            // The first letters in a new text box are part of the step that made it.
            let done = self.shared.act(doc, changes, true);
            self.shared.last_burst = Some((KeyBurst::Type, now_ms));
            done
        } else {
            self.shared.act_in_burst(doc, changes, KeyBurst::Type, now_ms)
        };
        if !done && let Some(writing) = &mut self.shared.writing {
            writing.field = None;
        }
        self.settle();
        done
    }
}

/// The changes that turn what the field showed (`old`) into `value`, and
/// what it shows after them: the letters between what the two share at the
/// start and at the end are erased, and the new ones written after the last
/// shared one, numbered from `next`.
fn edit(
    old: &[(CharId, char)],
    value: &str,
    id: &ShapeId,
    writer: u32,
    next: &mut u32,
) -> (Vec<Change>, Vec<(CharId, char)>) {
    let new: Vec<char> = value.chars().collect();
    let start = old.iter().zip(&new).take_while(|((_, a), b)| a == *b).count();
    let room = old.len().min(new.len()) - start;
    let end = old.iter().rev().zip(new.iter().rev()).take(room).take_while(|((_, a), b)| a == *b).count();
    let gone: Vec<CharId> = old[start..old.len() - end].iter().map(|(c, _)| *c).collect();
    let added = &new[start..new.len() - end];
    let mut changes: Vec<Change> = Text::runs_of(&gone)
        .chunks(RUNS_PER_ERASE)
        .map(|runs| Change::Erase { id: id.clone(), chars: runs.to_vec() })
        .collect();
    let first = *next;
    if !added.is_empty() {
        let at = CharId(writer, first);
        *next = next.saturating_add(added.len() as u32);
        let after = start.checked_sub(1).map(|i| old[i].0);
        changes.push(Change::Write { id: id.clone(), after, at, text: added.iter().collect() });
    }
    let written = added.iter().zip(first..).map(|(c, n)| (CharId(writer, n), *c));
    let shown = old[..start].iter().copied().chain(written).chain(old[old.len() - end..].iter().copied()).collect();
    (changes, shown)
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
        let text: Vec<(CharId, char)> = Text::whole("Buy milk").unwrap().shown_chars().collect();
        let mut next = 0;
        // "milk" → "oat milk": one write after "Buy ".
        let (changes, _) = edit(&text, "Buy oat milk", &id(), 7, &mut next);
        let expected = Change::Write { id: id(), after: Some(CharId(0, 3)), at: CharId(7, 0), text: "oat ".into() };
        assert_eq!(changes, [expected]);
        assert_eq!(next, 4);
        // A selection replaced: erase it, write after what is before it.
        let (changes, _) = edit(&text, "Buy tea", &id(), 7, &mut next);
        assert_eq!(changes[0], Change::Erase { id: id(), chars: vec![Run(0, 4, 4)] });
        assert_eq!(
            changes[1],
            Change::Write { id: id(), after: Some(CharId(0, 3)), at: CharId(7, 4), text: "tea".into() }
        );
        // Everything erased; a letter typed twice in a row ("ll") diffs to one letter.
        assert_eq!(edit(&text, "", &id(), 7, &mut next).0, [Change::Erase { id: id(), chars: vec![Run(0, 0, 8)] }]);
        let (changes, _) = edit(&text, "Buy mill k", &id(), 7, &mut next);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert!(edit(&text, "Buy milk", &id(), 7, &mut next).0.is_empty());
    }
}
