//! Writing in a shape: the field's changes become writes and erases, a burst
//! of typing is one undo step, and others' letters stay where they are.

use super::*;
use crate::model::CharId;

fn text(r: &Room, name: &str) -> String {
    r.board.get(&id(name)).unwrap().text.shown()
}

#[test]
fn typing_in_a_shape_writes_letter_by_letter_and_a_burst_is_one_undo_step() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 100.0, 100.0), ("b", C, 400.0, 100.0)]));
    assert!(!e.write_in_selection(&r), "nothing selected");
    assert!(e.start_writing(&r, &id("a")));
    assert_eq!((e.writing(), selected(&e)), (Some(&id("a")), vec!["a"]));
    let mut field = String::new();
    for (i, letter) in "Plan".chars().enumerate() {
        field.push(letter);
        assert!(e.typed(&mut r, &field, i as f64 * 100.0));
    }
    assert_eq!((text(&r, "a"), r.sent.len()), ("Plan".to_owned(), 4));
    // Someone else writes at the start meanwhile; then a pause, and more typing.
    others(&mut e, &mut r, Change::Write { id: id("a"), after: None, at: CharId(99, 0), text: "> ".into() });
    assert!(e.typed(&mut r, "> Plan B", 5_000.0));
    assert_eq!(text(&r, "a"), "> Plan B");
    e.stop_writing();
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
fn writing_stops_when_the_shape_goes_and_a_refused_edit_says_so() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 100.0, 100.0)]));
    e.start_writing(&r, &id("a"));
    assert!(!e.typed(&mut r, &"x".repeat(5_001), 0.0), "past the limit: refused");
    assert_eq!(text(&r, "a"), "");
    others(&mut e, &mut r, Change::Delete { id: id("a") });
    assert_eq!(e.writing(), None);
    assert!(!e.typed(&mut r, "late", 10.0));
}
