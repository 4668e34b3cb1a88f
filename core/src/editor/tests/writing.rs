//! Writing in a shape: the field's changes become writes and erases, a burst
//! of typing is one undo step, and others' letters stay where they are.

use super::*;
use crate::editor::FieldText;
use crate::model::{CharId, Text};

fn text(r: &Room, name: &str) -> String {
    r.board.get(&id(name)).unwrap().text.shown()
}

#[test]
fn typing_in_a_shape_writes_letter_by_letter_and_a_burst_is_one_undo_step() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 100.0, 100.0), ("b", C, 400.0, 100.0)]));
    assert!(!e.write_in_selection(&mut r), "nothing selected");
    assert!(e.start_writing(&mut r, &id("a")));
    assert_eq!((e.writing(), selected(&e)), (Some(&id("a")), vec!["a"]));
    // The field is given the shape's (empty) text once, then typed in.
    assert_eq!(e.field_text(&r, 0, 0), Some(FieldText { value: String::new(), start: 0, end: 0 }));
    assert_eq!(e.field_text(&r, 0, 0), None, "nothing new to show");
    let mut field = String::new();
    for (i, letter) in "Plan".chars().enumerate() {
        field.push(letter);
        assert!(e.typed(&mut r, &field, i as f64 * 100.0));
    }
    assert_eq!((text(&r, "a"), r.sent.len()), ("Plan".to_owned(), 4));
    assert_eq!(e.field_text(&r, 4, 4), None, "the field shows what the shape has");
    // Someone else writes at the start meanwhile: the field shows it, the caret stays after "Plan".
    others(&mut e, &mut r, Change::Write { id: id("a"), after: None, at: CharId(99, 0), text: "> ".into() });
    assert_eq!(e.field_text(&r, 4, 4), Some(FieldText { value: "> Plan".into(), start: 6, end: 6 }));
    // Then a pause, and more typing.
    assert!(e.typed(&mut r, "> Plan B", 5_000.0));
    assert_eq!(text(&r, "a"), "> Plan B");
    e.stop_writing(&mut r);
    assert_eq!(e.writing(), None);
    // Two steps: " B", then "Plan"; theirs stays.
    e.undo(&mut r);
    assert_eq!(text(&r, "a"), "> Plan");
    e.undo(&mut r);
    assert_eq!(text(&r, "a"), "> ");
    e.redo(&mut r);
    assert_eq!(text(&r, "a"), "> Plan");
}

#[test]
fn a_letter_of_someone_else_arriving_between_a_key_and_its_input_is_kept() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 100.0, 100.0)]));
    e.start_writing(&mut r, &id("a"));
    e.field_text(&r, 0, 0);
    assert!(e.typed(&mut r, "Plan ", 0.0));
    // Someone appends "B" after "Plan "; before the field is given it, this tab types "A" there too.
    let after = Some(r.board.get(&id("a")).unwrap().text.shown_ids().last().unwrap());
    others(&mut e, &mut r, Change::Write { id: id("a"), after, at: CharId(99, 0), text: "B".into() });
    assert!(e.typed(&mut r, "Plan A", 100.0));
    // Both letters are there (this tab's first: it wrote after the same letter later), and the field catches up.
    assert_eq!(text(&r, "a"), "Plan AB");
    assert_eq!(e.field_text(&r, 6, 6), Some(FieldText { value: "Plan AB".into(), start: 6, end: 6 }));
    // Text selected and typed over erases just that, not the letters the field never showed.
    assert!(e.typed(&mut r, "Plan AB!", 200.0));
    others(&mut e, &mut r, Change::Write { id: id("a"), after: None, at: CharId(98, 0), text: "> ".into() });
    assert!(e.typed(&mut r, "Plan", 300.0));
    assert_eq!(text(&r, "a"), "> Plan");
}

#[test]
fn writing_stops_when_the_shape_goes_and_a_refused_edit_says_so() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 100.0, 100.0)]));
    e.start_writing(&mut r, &id("a"));
    assert!(!e.typed(&mut r, "early", 0.0), "the field was never given the shape's text");
    e.field_text(&r, 0, 0);
    assert!(!e.typed(&mut r, &"x".repeat(5_001), 0.0), "past the limit: refused");
    assert_eq!(text(&r, "a"), "");
    // The field is given the shape's text again.
    assert_eq!(e.field_text(&r, 5_001, 5_001), Some(FieldText { value: String::new(), start: 0, end: 0 }));
    others(&mut e, &mut r, Change::Delete { id: id("a") });
    assert_eq!(e.writing(), None);
    assert!(!e.typed(&mut r, "late", 10.0));
}

#[test]
fn undoing_a_burst_of_typing_takes_back_only_this_tabs_letters() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 100.0, 100.0)]));
    e.start_writing(&mut r, &id("a"));
    e.field_text(&r, 0, 0);
    assert!(e.typed(&mut r, "Plan", 0.0));
    e.stop_writing(&mut r);
    e.start_writing(&mut r, &id("a"));
    e.field_text(&r, 4, 4);
    // One burst: " A", someone's " B" at the end, "A" again, someone erases the "P", "A" again.
    assert!(e.typed(&mut r, "Plan A", 5_000.0));
    let last = r.board.get(&id("a")).unwrap().text.shown_ids().last();
    others(&mut e, &mut r, Change::Write { id: id("a"), after: last, at: CharId(99, 0), text: " B".into() });
    e.field_text(&r, 6, 6);
    assert!(e.typed(&mut r, "Plan AA B", 5_100.0));
    let first = r.board.get(&id("a")).unwrap().text.shown_ids().next().unwrap();
    others(&mut e, &mut r, Change::Erase { id: id("a"), chars: Text::runs_of(&[first]) });
    e.field_text(&r, 6, 6);
    assert!(e.typed(&mut r, "lan AAA B", 5_200.0));
    assert_eq!(text(&r, "a"), "lan AAA B");
    // One undo takes back " AAA" and nothing of theirs: their " B" stays, their erase stands.
    e.stop_writing(&mut r);
    e.undo(&mut r);
    assert_eq!(text(&r, "a"), "lan B");
    e.redo(&mut r);
    assert_eq!(text(&r, "a"), "lan AAA B");
}
