//! The text on a shape: a sequence of characters that several people can
//! write in at once, each keeping every letter they typed.
//!
//! Every character has an id (`CharId`): the writer's number, picked at random
//! by a tab when it starts writing in a shape, and that writer's count. A
//! `write` names the character it goes after (or none: the start) and the id
//! of its first character; an `erase` names the characters it removes, which
//! stay behind as tombstones (the id only), so a later `write` after one of
//! them still has its place. Text that arrives whole (a new shape, an import)
//! has writer 0.
//!
//! Why this and not operational transformation: the room already puts every
//! change in one order, and applies it with the same code as every tab
//! (`Board::apply`); a tab shows the server's board plus its own changes
//! replayed on top (`Replica`). An edit that names characters by id means the
//! same thing on any board it lands on, so replaying it needs no transforming,
//! a reconnect with unsent typing needs no history from the server, and the
//! undo of an edit (erase what I wrote, bring back what I erased) touches only
//! my characters. The rule for where a `write` goes is the simplest that the
//! single order makes enough: right after the character it names, before
//! anything written there earlier. Two people typing at one place keep their
//! words whole (each next letter goes after the writer's own last one), and a
//! caret anchored to a character id never jumps. This is RGA (Roh et al.,
//! 2011) with the server's order in place of its timestamps, and the run
//! compression of Yjs for what is stored.

use serde::{Deserialize, Serialize};

/// The most characters a shape's text shows.
pub const MAX_TEXT: usize = 5_000;
/// The most characters a shape's text keeps, shown or erased: editing goes on
/// for a long time within this, and a hostile writer cannot grow a shape
/// without bound.
pub const MAX_STORED: usize = 4 * MAX_TEXT;

/// One character's id: its writer and that writer's count. On the wire `[w, n]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CharId(pub u32, pub u32);

/// Characters `first`, `first + 1`, … `len` of them, of one writer: `[w, n, len]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run(pub u32, pub u32, pub u32);

impl Run {
    fn ids(self) -> impl Iterator<Item = CharId> {
        let Run(w, n, len) = self;
        (0..len).map(move |i| CharId(w, n.saturating_add(i)))
    }
}

/// Characters looked up by id: a sorted list rather than a hash map, which
/// would cost the browser's bundle a table of its own for this one key type.
#[derive(Debug, Default)]
pub struct Chars(Vec<u128>);

impl Chars {
    /// These characters (the first of an id, if one comes twice).
    pub fn of(chars: impl Iterator<Item = (CharId, char)>) -> Chars {
        let mut all: Vec<u128> = chars
            .map(|(id, ch)| (u128::from(id.0) << 64) | (u128::from(id.1) << 32) | u128::from(u32::from(ch)))
            .collect();
        all.sort_unstable();
        Chars(all)
    }

    /// These ids, with no characters.
    pub fn ids(ids: impl Iterator<Item = CharId>) -> Chars {
        Chars::of(ids.map(|id| (id, '\0')))
    }

    fn find(&self, id: CharId) -> Option<u128> {
        let key = (u128::from(id.0) << 32) | u128::from(id.1);
        self.0.binary_search_by(|e| (e >> 32).cmp(&key)).ok().map(|i| self.0[i])
    }

    pub fn contains(&self, id: CharId) -> bool {
        self.find(id).is_some()
    }

    /// The character kept for `id`.
    pub fn get(&self, id: CharId) -> Option<char> {
        self.find(id).and_then(|e| char::from_u32(e as u32))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// An id that comes twice, if one does.
    fn repeated(&self) -> Option<CharId> {
        self.0.windows(2).find(|w| w[0] >> 32 == w[1] >> 32).map(|w| CharId((w[0] >> 64) as u32, (w[0] >> 32) as u32))
    }
}

/// Why an edit of a text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("a text shows at most {MAX_TEXT} characters; this would make it {0}")]
    TooLong(usize),
    #[error("this text has been edited past the {MAX_STORED} characters it keeps: start a new one")]
    TooMuchKept,
    #[error("there is no character [{}, {}] in this text", .0.0, .0.1)]
    UnknownChar(CharId),
    #[error("character [{}, {}] is already in this text", .0.0, .0.1)]
    DuplicateChar(CharId),
    #[error("a write holds 1 to {MAX_TEXT} characters, and no control characters but line breaks and tabs")]
    BadWrite,
    #[error("the text and its character ids do not match")]
    Mismatch,
}

/// A character, or where one was.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Slot {
    id: CharId,
    ch: Option<char>,
}

/// A shape's text: its characters in order, erased ones kept as tombstones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Text {
    slots: Vec<Slot>,
    shown: usize,
}

/// Whether `ch` may be written: anything but control characters, except a
/// line break and a tab.
fn writable(ch: char) -> bool {
    !ch.is_control() || ch == '\n' || ch == '\t'
}

impl Text {
    /// Text that arrives whole, its characters numbered from writer 0's 0.
    pub fn whole(s: &str) -> Result<Text, TextError> {
        let text: Text = Text {
            slots: s.chars().zip(0..).map(|(ch, n)| Slot { id: CharId(0, n), ch: Some(ch) }).collect(),
            shown: s.chars().count(),
        };
        text.check_whole()?;
        Ok(text)
    }

    /// Rebuilds a text from what it shows and its ids in order (`runs`
    /// written by `runs`), checking they agree and keep to the limits.
    pub fn from_parts(shown: &str, runs: &[(Run, bool)]) -> Result<Text, TextError> {
        let mut chars = shown.chars();
        let mut slots = Vec::new();
        for &(run, gone) in runs {
            for id in run.ids() {
                if slots.len() >= MAX_STORED {
                    return Err(TextError::TooMuchKept);
                }
                let ch = if gone { None } else { Some(chars.next().ok_or(TextError::Mismatch)?) };
                slots.push(Slot { id, ch });
            }
        }
        if chars.next().is_some() {
            return Err(TextError::Mismatch);
        }
        let shown = slots.iter().filter(|s| s.ch.is_some()).count();
        let text = Text { slots, shown };
        text.check_whole()?;
        Ok(text)
    }

    fn check_whole(&self) -> Result<(), TextError> {
        if self.shown > MAX_TEXT {
            return Err(TextError::TooLong(self.shown));
        }
        if self.slots.len() > MAX_STORED {
            return Err(TextError::TooMuchKept);
        }
        if self.slots.iter().filter_map(|s| s.ch).any(|c| !writable(c)) {
            return Err(TextError::BadWrite);
        }
        match Chars::ids(self.slots.iter().map(|s| s.id)).repeated() {
            Some(id) => Err(TextError::DuplicateChar(id)),
            None => Ok(()),
        }
    }

    /// Its ids in order, as runs of one writer's consecutive characters,
    /// each shown or erased (`true`: erased).
    pub fn runs(&self) -> Vec<(Run, bool)> {
        let mut runs: Vec<(Run, bool)> = Vec::new();
        for slot in &self.slots {
            let gone = slot.ch.is_none();
            match runs.last_mut() {
                Some((Run(w, n, len), g))
                    if *w == slot.id.0 && *g == gone && n.checked_add(*len) == Some(slot.id.1) =>
                {
                    *len += 1;
                }
                _ => runs.push((Run(slot.id.0, slot.id.1, 1), gone)),
            }
        }
        runs
    }

    /// What it shows.
    pub fn shown(&self) -> String {
        self.slots.iter().filter_map(|s| s.ch).collect()
    }

    /// How many characters it shows.
    pub fn len(&self) -> usize {
        self.shown
    }

    pub fn is_empty(&self) -> bool {
        self.shown == 0
    }

    /// How many characters it keeps, shown or erased.
    pub fn kept(&self) -> usize {
        self.slots.len()
    }

    /// The ids of the characters it shows, in order: the `i`th shown
    /// character is the `i`th id (a caret after it is anchored to it).
    pub fn shown_ids(&self) -> impl Iterator<Item = CharId> + '_ {
        self.slots.iter().filter(|s| s.ch.is_some()).map(|s| s.id)
    }

    /// The characters it shows, with their ids, in order.
    pub fn shown_chars(&self) -> impl Iterator<Item = (CharId, char)> + '_ {
        self.slots.iter().filter_map(|s| Some((s.id, s.ch?)))
    }

    /// Every id it keeps, in order, and whether its character is shown.
    pub fn all_ids(&self) -> impl Iterator<Item = (CharId, bool)> + '_ {
        self.slots.iter().map(|s| (s.id, s.ch.is_some()))
    }

    /// `ids` as runs of one writer's consecutive characters, in order.
    pub fn runs_of(ids: &[CharId]) -> Vec<Run> {
        let mut runs: Vec<Run> = Vec::new();
        for id in ids {
            match runs.last_mut() {
                Some(Run(w, n, len)) if *w == id.0 && n.checked_add(*len) == Some(id.1) => *len += 1,
                _ => runs.push(Run(id.0, id.1, 1)),
            }
        }
        runs
    }

    /// Where a caret after character `id` stands: how many shown characters
    /// come up to it (an erased one counts where it was).
    pub fn caret_after(&self, id: CharId) -> usize {
        let Some(at) = self.position(id) else { return self.shown };
        self.slots[..=at].iter().filter(|s| s.ch.is_some()).count()
    }

    /// Whether character `id` is here and shown (`Some(true)`), here and
    /// erased (`Some(false)`), or was never here.
    pub fn is_shown(&self, id: CharId) -> Option<bool> {
        self.slots.iter().find(|s| s.id == id).map(|s| s.ch.is_some())
    }

    fn position(&self, id: CharId) -> Option<usize> {
        self.slots.iter().position(|s| s.id == id)
    }

    /// Checks a write of `s` after `after` (none: at the start), its
    /// characters numbered from `at`.
    pub fn check_write(&self, after: Option<CharId>, at: CharId, s: &str) -> Result<(), TextError> {
        let n = s.chars().count();
        if n == 0 || n > MAX_TEXT || !s.chars().all(writable) || at.1.checked_add(n as u32).is_none() {
            return Err(TextError::BadWrite);
        }
        if let Some(after) = after
            && self.position(after).is_none()
        {
            return Err(TextError::UnknownChar(after));
        }
        if self.shown + n > MAX_TEXT {
            return Err(TextError::TooLong(self.shown + n));
        }
        if self.slots.len() + n > MAX_STORED {
            return Err(TextError::TooMuchKept);
        }
        let taken = |slot: &&Slot| slot.id.0 == at.0 && (at.1..at.1 + n as u32).contains(&slot.id.1);
        match self.slots.iter().find(taken) {
            Some(slot) => Err(TextError::DuplicateChar(slot.id)),
            None => Ok(()),
        }
    }

    /// Applies a checked write: right after `after`, before anything written there earlier.
    pub fn write(&mut self, after: Option<CharId>, at: CharId, s: &str) {
        let place = after.and_then(|id| self.position(id)).map_or(0, |p| p + 1);
        let new = s.chars().zip(at.1..).map(|(ch, n)| Slot { id: CharId(at.0, n), ch: Some(ch) });
        let before = self.slots.len();
        self.slots.splice(place..place, new);
        self.shown += self.slots.len() - before;
    }

    /// Checks an erase: every character of `runs` is here (shown or erased already).
    pub fn check_erase(&self, runs: &[Run]) -> Result<(), TextError> {
        check_runs(runs, MAX_STORED)?;
        self.find_all(runs).map(|_| ())
    }

    /// Erases the characters of `runs`, keeping their places.
    pub fn erase(&mut self, runs: &[Run]) {
        let ids = Chars::ids(runs.iter().flat_map(|r| r.ids()));
        for slot in self.slots.iter_mut().filter(|s| ids.contains(s.id)) {
            if slot.ch.take().is_some() {
                self.shown -= 1;
            }
        }
    }

    /// Checks bringing back erased characters (what undoing an erase does):
    /// `s` holds one character for each id of `runs`, in order, and every one
    /// of them is here.
    pub fn check_unerase(&self, runs: &[Run], s: &str) -> Result<(), TextError> {
        let count = check_runs(runs, MAX_TEXT)?;
        if s.chars().count() != count || !s.chars().all(writable) {
            return Err(TextError::BadWrite);
        }
        let back = self.find_all(runs)?;
        if self.shown + back > MAX_TEXT {
            return Err(TextError::TooLong(self.shown + back));
        }
        Ok(())
    }

    /// Brings back the erased characters of `runs` as `s` has them, each
    /// where it was (shown ones stay as they are).
    pub fn unerase(&mut self, runs: &[Run], s: &str) {
        let chars = Chars::of(runs.iter().flat_map(|r| r.ids()).zip(s.chars()));
        for slot in self.slots.iter_mut().filter(|s| s.ch.is_none()) {
            if let Some(ch) = chars.get(slot.id) {
                slot.ch = Some(ch);
                self.shown += 1;
            }
        }
    }

    /// Whether every character of `runs` is here; how many of them are erased.
    fn find_all(&self, runs: &[Run]) -> Result<usize, TextError> {
        let wanted = Chars::ids(runs.iter().flat_map(|r| r.ids()));
        let (mut found, mut erased) = (0, 0);
        for slot in self.slots.iter().filter(|s| wanted.contains(s.id)) {
            found += 1;
            erased += usize::from(slot.ch.is_none());
        }
        if found == wanted.len() && wanted.repeated().is_none() {
            return Ok(erased);
        }
        let here = Chars::ids(self.slots.iter().map(|s| s.id));
        let missing = runs.iter().flat_map(|r| r.ids()).find(|id| !here.contains(*id));
        Err(missing.map_or(TextError::BadWrite, TextError::UnknownChar))
    }
}

/// Checks runs are well formed (each at least one character, not past the
/// counter's end, at most `most` characters in all); returns how many characters.
fn check_runs(runs: &[Run], most: usize) -> Result<usize, TextError> {
    let mut count = 0usize;
    for r in runs {
        if r.2 == 0 || r.1.checked_add(r.2).is_none() {
            return Err(TextError::BadWrite);
        }
        count = count.saturating_add(r.2 as usize);
    }
    if runs.is_empty() || count > most.min(MAX_STORED) {
        return Err(TextError::BadWrite);
    }
    Ok(count)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Types `s` letter by letter after `after`, as writer `w` from count `n`; returns the last id.
    fn typing(t: &mut Text, w: u32, mut n: u32, mut after: Option<CharId>, s: &str) -> Option<CharId> {
        for ch in s.chars() {
            let at = CharId(w, n);
            let one = ch.to_string();
            t.check_write(after, at, &one).unwrap();
            t.write(after, at, &one);
            (after, n) = (Some(at), n + 1);
        }
        after
    }

    #[test]
    fn two_writers_at_one_place_keep_their_words_whole() {
        let mut t = Text::whole("Hi ").unwrap();
        let end = t.shown_ids().last();
        // Interleaved letter by letter, in the room's order, both after "Hi ".
        let (mut a, mut b) = (end, end);
        for (i, (x, y)) in "Ann".chars().zip("Bob".chars()).enumerate() {
            let i = i as u32;
            a = typing(&mut t, 1, i, a, &x.to_string());
            b = typing(&mut t, 2, i, b, &y.to_string());
        }
        assert_eq!(t.shown(), "Hi BobAnn");
        assert_eq!((t.len(), t.kept()), (9, 9));
    }

    #[test]
    fn a_write_after_an_erased_character_still_has_its_place() {
        let mut t = Text::whole("abc").unwrap();
        let b = CharId(0, 1);
        t.check_erase(&[Run(0, 1, 1)]).unwrap();
        t.erase(&[Run(0, 1, 1)]);
        assert_eq!((t.shown(), t.len(), t.kept()), ("ac".to_owned(), 2, 3));
        t.check_write(Some(b), CharId(7, 0), "X").unwrap();
        t.write(Some(b), CharId(7, 0), "X");
        assert_eq!(t.shown(), "aXc");
        // Undoing the erase brings "b" back where it was.
        t.check_unerase(&[Run(0, 1, 1)], "b").unwrap();
        t.unerase(&[Run(0, 1, 1)], "b");
        assert_eq!(t.shown(), "abXc");
        // Erasing twice, or bringing back what is shown, changes nothing.
        t.erase(&[Run(7, 0, 1)]);
        t.erase(&[Run(7, 0, 1)]);
        t.unerase(&[Run(0, 0, 1)], "z");
        assert_eq!(t.shown(), "abc");
    }

    #[test]
    fn bad_edits_are_refused_with_a_reason() {
        let t = Text::whole("abc").unwrap();
        assert_eq!(t.check_write(Some(CharId(9, 9)), CharId(1, 0), "x"), Err(TextError::UnknownChar(CharId(9, 9))));
        assert_eq!(t.check_write(None, CharId(0, 2), "x"), Err(TextError::DuplicateChar(CharId(0, 2))));
        assert_eq!(t.check_write(None, CharId(1, 0), ""), Err(TextError::BadWrite));
        assert_eq!(t.check_write(None, CharId(1, 0), "a\u{7}b"), Err(TextError::BadWrite));
        assert_eq!(t.check_write(None, CharId(1, u32::MAX), "ab"), Err(TextError::BadWrite));
        assert!(t.check_write(None, CharId(1, 0), "line\n\ttab").is_ok());
        let long = "x".repeat(MAX_TEXT - 2);
        assert_eq!(t.check_write(None, CharId(1, 0), &long), Err(TextError::TooLong(MAX_TEXT + 1)));
        assert_eq!(t.check_erase(&[Run(0, 2, 2)]), Err(TextError::UnknownChar(CharId(0, 3))));
        assert_eq!(t.check_erase(&[]), Err(TextError::BadWrite));
        assert_eq!(t.check_unerase(&[Run(0, 0, 2)], "a"), Err(TextError::BadWrite));
        assert!(Text::whole(&"y".repeat(MAX_TEXT + 1)).is_err());
    }

    #[test]
    fn a_text_is_kept_as_few_runs_and_rebuilt_from_them() {
        let mut t = Text::whole("hello").unwrap();
        let end = t.shown_ids().last();
        typing(&mut t, 3, 0, end, " world");
        t.erase(&[Run(0, 1, 3)]);
        let runs = t.runs();
        assert_eq!(runs, [(Run(0, 0, 1), false), (Run(0, 1, 3), true), (Run(0, 4, 1), false), (Run(3, 0, 6), false)]);
        let back = Text::from_parts(&t.shown(), &runs).unwrap();
        assert_eq!(back, t);
        assert_eq!(Text::from_parts("ho world!", &runs), Err(TextError::Mismatch));
        assert_eq!(Text::from_parts("ho", &runs), Err(TextError::Mismatch));
        let twice = [(Run(1, 0, 2), false), (Run(1, 1, 1), false)];
        assert_eq!(Text::from_parts("abc", &twice), Err(TextError::DuplicateChar(CharId(1, 1))));
        assert_eq!(Text::runs_of(&[CharId(1, 4), CharId(1, 5), CharId(2, 6)]), [Run(1, 4, 2), Run(2, 6, 1)]);
    }
}
