//! The select tool's gestures: clicks, Shift+clicks, drags, selection
//! rectangles, a pinch taking a press over, and shapes vanishing meanwhile.

use super::*;
use crate::model::{BOARD_HEIGHT, BOARD_WIDTH};

fn two_apart() -> Room {
    room(&[("a", R, 100.0, 100.0), ("b", C, 400.0, 100.0)])
}

fn click(e: &mut Editor, r: &mut Room, x: f64, y: f64, add: bool) {
    assert!(e.pointer_down(r, x, y, add), "a press is the board's until released");
    e.pointer_up(r);
}

#[test]
fn a_click_selects_the_shape_under_it_alone_and_a_click_on_empty_board_clears() {
    let (mut e, mut r) = (editor(), two_apart());
    click(&mut e, &mut r, 150.0, 150.0, false);
    assert_eq!(selected(&e), ["a"]);
    assert!(e.take_dirty().selection);
    click(&mut e, &mut r, 460.0, 160.0, false);
    assert_eq!(selected(&e), ["b"]);
    click(&mut e, &mut r, 1000.0, 800.0, false);
    assert!(selected(&e).is_empty());
    // A click beside a circle, inside its box, misses it.
    click(&mut e, &mut r, 402.0, 102.0, false);
    assert!(selected(&e).is_empty());
    assert!(r.sent.is_empty(), "clicks change nothing");
    assert!(!e.can_undo());
}

#[test]
fn shift_click_adds_a_shape_or_takes_it_out() {
    let (mut e, mut r) = (editor(), two_apart());
    click(&mut e, &mut r, 150.0, 150.0, false);
    click(&mut e, &mut r, 460.0, 160.0, true);
    assert_eq!(selected(&e), ["a", "b"]);
    click(&mut e, &mut r, 150.0, 150.0, true);
    assert_eq!(selected(&e), ["b"]);
    // Shift on empty board keeps what is selected.
    click(&mut e, &mut r, 1000.0, 800.0, true);
    assert_eq!(selected(&e), ["b"]);
    // Shift+click taking a shape out does not drag it.
    e.pointer_down(&mut r, 460.0, 160.0, true);
    assert!(!e.dragging_shapes() && !e.pressing());
    assert!(!e.pointer_move(&mut r, 900.0, 900.0), "over nothing, holding nothing");
    e.flush_drag(&mut r);
    e.pointer_up(&mut r);
    assert_eq!(at(&r, "b"), (400.0, 100.0));
}

#[test]
fn a_press_on_a_selected_shape_keeps_the_selection_and_drags_it_as_one_undo_step() {
    let (mut e, mut r) = (editor(), two_apart());
    e.select_all(&mut r);
    assert!(e.pointer_down(&mut r, 150.0, 150.0, false));
    assert_eq!(selected(&e), ["a", "b"]);
    assert!(e.dragging_shapes() && e.pressing());
    e.take_dirty();
    // A move is only stored: nothing goes out before the frame.
    assert!(e.pointer_move(&mut r, 160.0, 170.0), "holding something: the move cursor");
    assert!(e.take_dirty().redraw, "a frame is asked for, to send the move");
    assert!(r.sent.is_empty());
    e.pointer_move(&mut r, 170.0, 180.0);
    e.flush_drag(&mut r);
    assert_eq!(r.sent.len(), 1, "one batch per frame");
    assert_eq!(last_parts(&r), 2);
    assert_eq!((at(&r, "a"), at(&r, "b")), ((120.0, 130.0), (420.0, 130.0)));
    e.flush_drag(&mut r);
    assert_eq!(r.sent.len(), 1, "nothing new: nothing sent");
    e.pointer_move(&mut r, 250.0, 250.0);
    e.pointer_up(&mut r);
    assert_eq!(r.sent.len(), 2, "the last position goes out on release");
    assert_eq!((at(&r, "a"), at(&r, "b")), ((200.0, 200.0), (500.0, 200.0)));
    assert!(e.take_dirty().history);
    assert!(!e.pressing());

    assert!(e.undo(&mut r));
    assert_eq!((at(&r, "a"), at(&r, "b")), ((100.0, 100.0), (400.0, 100.0)), "the whole drag is one step");
    assert!(!e.can_undo());
}

#[test]
fn a_group_drag_stops_as_one_at_the_edge() {
    let mut r = room(&[("a", R, 100.0, 100.0), ("b", C, 1400.0, 800.0)]);
    let mut e = editor();
    e.select_all(&mut r);
    e.pointer_down(&mut r, 150.0, 150.0, false);
    e.pointer_move(&mut r, 5000.0, -5000.0);
    e.pointer_up(&mut r);
    // b meets the right edge, a the top: both move the same.
    assert_eq!(at(&r, "b"), (BOARD_WIDTH - 120.0, 700.0));
    assert_eq!(at(&r, "a"), (100.0 + BOARD_WIDTH - 120.0 - 1400.0, 0.0));
    e.pointer_down(&mut r, 200.0, 10.0, false);
    e.pointer_move(&mut r, 200.0, 5000.0);
    e.pointer_up(&mut r);
    assert_eq!(at(&r, "b").1, BOARD_HEIGHT - 120.0);
}

#[test]
fn a_selection_rectangle_selects_what_it_touches_and_with_shift_adds_to_the_selection() {
    let mut r = room(&[("a", R, 100.0, 100.0), ("b", C, 400.0, 100.0), ("c", T, 100.0, 600.0)]);
    let mut e = editor();
    click(&mut e, &mut r, 150.0, 650.0, false);
    assert_eq!(selected(&e), ["c"]);
    assert!(e.pointer_down(&mut r, 10.0, 10.0, false));
    assert!(selected(&e).is_empty(), "a press on empty board clears");
    assert_eq!(e.marquee(), Some([10.0, 10.0, 10.0, 10.0]));
    assert!(!e.pointer_move(&mut r, 400.0, 120.0), "the cursor stays an arrow");
    assert_eq!(selected(&e), ["a", "b"], "b's box is touched at its corner");
    assert_eq!(e.marquee(), Some([10.0, 10.0, 400.0, 120.0]));
    e.pointer_move(&mut r, 200.0, 110.0);
    assert_eq!(selected(&e), ["a"], "it shrinks again");
    assert_eq!(e.marquee(), Some([10.0, 10.0, 200.0, 110.0]));
    e.pointer_up(&mut r);
    assert_eq!((selected(&e), e.marquee()), (vec!["a"], None));

    // With Shift: added to what was selected before the press, each once;
    // drawn up and to the left, it is the same rectangle.
    e.pointer_down(&mut r, 1500.0, 900.0, true);
    e.pointer_move(&mut r, 420.0, 150.0);
    assert_eq!(selected(&e), ["a", "b"]);
    e.pointer_move(&mut r, 50.0, 650.0);
    assert_eq!(selected(&e), ["a", "c"]);
    assert_eq!(e.marquee(), Some([50.0, 650.0, 1500.0, 900.0]));
    e.pointer_move(&mut r, 50.0, 10.0);
    assert_eq!(selected(&e), ["a", "b", "c"]);
    e.pointer_up(&mut r);
    assert!(r.sent.is_empty() && !e.can_undo(), "selecting is no change");
}

#[test]
fn a_pinch_taking_over_a_selection_rectangle_restores_the_selection_from_before_the_press() {
    let (mut e, mut r) = (editor(), two_apart());
    click(&mut e, &mut r, 460.0, 160.0, false);
    e.pointer_down(&mut r, 10.0, 10.0, false);
    e.pointer_move(&mut r, 200.0, 200.0);
    assert_eq!(selected(&e), ["a"]);
    e.pointer_cancel(&mut r);
    assert_eq!((selected(&e), e.marquee(), e.pressing()), (vec!["b"], None, false));
}

#[test]
fn a_pinch_taking_over_a_drag_keeps_what_it_moved_as_one_step() {
    let (mut e, mut r) = (editor(), two_apart());
    e.pointer_down(&mut r, 150.0, 150.0, false);
    e.pointer_move(&mut r, 170.0, 150.0);
    e.flush_drag(&mut r);
    e.pointer_move(&mut r, 190.0, 150.0);
    e.pointer_cancel(&mut r);
    assert_eq!(at(&r, "a"), (140.0, 100.0));
    assert_eq!(selected(&e), ["a"]);
    e.undo(&mut r);
    assert_eq!(at(&r, "a"), (100.0, 100.0));
}

#[test]
fn hovering_says_whether_a_shape_is_under_the_pointer_and_asks_for_no_frame() {
    let (mut e, mut r) = (editor(), two_apart());
    e.take_dirty();
    assert!(e.pointer_move(&mut r, 150.0, 150.0));
    assert!(!e.pointer_move(&mut r, 1000.0, 150.0));
    assert_eq!(e.take_dirty(), Dirty::default());
}

#[test]
fn shapes_others_delete_leave_the_selection() {
    let mut r = room(&[("a", R, 100.0, 100.0), ("b", C, 400.0, 100.0), ("c", T, 100.0, 600.0)]);
    let mut e = editor();
    e.select_all(&mut r);
    e.take_dirty();
    others(&mut e, &mut r, Change::Delete { id: id("b") });
    assert_eq!(selected(&e), ["a", "c"]);
    assert!(e.take_dirty().selection);
    others(&mut e, &mut r, Change::Move { id: id("a"), x: 0.0, y: 0.0 });
    assert!(!e.take_dirty().selection, "a move leaves the selection be");
}

/// A selected shape deleted by someone else mid-drag ends the drag where it
/// is: the moves made stay (not an undo step), later pointer moves do nothing.
#[test]
fn a_drag_ends_when_someone_deletes_a_shape_it_moves() {
    let (mut e, mut r) = (editor(), two_apart());
    e.select_all(&mut r);
    e.pointer_down(&mut r, 150.0, 150.0, false);
    e.pointer_move(&mut r, 160.0, 150.0);
    e.flush_drag(&mut r);
    others(&mut e, &mut r, Change::Delete { id: id("b") });
    assert!(!e.dragging_shapes());
    assert_eq!(selected(&e), ["a"]);
    e.pointer_move(&mut r, 300.0, 300.0);
    e.flush_drag(&mut r);
    e.pointer_up(&mut r);
    assert_eq!(at(&r, "a"), (110.0, 100.0));
    assert!(!e.can_undo());
}

/// A shape no longer selected but still dragged (Escape mid-drag) and then
/// deleted drops out of the drag; the rest go on moving.
#[test]
fn a_drag_drops_a_dragged_shape_deleted_after_it_left_the_selection() {
    let mut r = room(&[("a", R, 100.0, 100.0), ("b", C, 1300.0, 100.0)]);
    let mut e = editor();
    e.select_all(&mut r);
    e.pointer_down(&mut r, 150.0, 150.0, false);
    assert!(e.clear_selection());
    others(&mut e, &mut r, Change::Delete { id: id("b") });
    assert!(e.dragging_shapes());
    // b at the right edge no longer holds a back.
    e.pointer_move(&mut r, 450.0, 150.0);
    e.flush_drag(&mut r);
    assert_eq!(last_parts(&r), 1);
    e.pointer_up(&mut r);
    assert_eq!(at(&r, "a"), (400.0, 100.0));
    e.undo(&mut r);
    assert_eq!(at(&r, "a"), (100.0, 100.0));
}

#[test]
fn interrupting_drops_the_gesture_and_the_selection_without_acting() {
    let (mut e, mut r) = (editor(), two_apart());
    e.pointer_down(&mut r, 150.0, 150.0, false);
    e.pointer_move(&mut r, 300.0, 300.0);
    e.interrupt();
    e.flush_drag(&mut r);
    e.pointer_up(&mut r);
    assert!(selected(&e).is_empty() && r.sent.is_empty() && !e.can_undo());
}
