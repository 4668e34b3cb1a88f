//! Commands on the selection: nudges and their bursts, delete, colour,
//! layers, Tab cycling, select all, undo and redo, and `run`'s clipboard.

use super::*;
use crate::editor::shared::NUDGE_BURST_MS;
use crate::model::{BOARD_WIDTH, Color, TextSize};

fn three() -> Room {
    room(&[("a", R, 100.0, 100.0), ("b", C, 400.0, 100.0), ("c", T, 700.0, 100.0)])
}

fn select(e: &mut Editor, r: &mut Room, names: &[&str]) {
    e.clear_selection();
    for name in names {
        let s = r.board.get(&id(name)).unwrap().clone();
        let (x, y) = s.centre();
        e.pointer_down(r, x, y, true);
        e.pointer_up(r);
    }
    assert_eq!(selected(e), names);
}

#[test]
fn a_nudge_moves_the_selection_as_one_change_and_stops_at_the_edges() {
    let (mut e, mut r) = (editor(), three());
    assert!(!e.nudge(&mut r, 10.0, 0.0, 0.0), "nothing selected: the arrow scrolls the page");
    select(&mut e, &mut r, &["a", "b"]);
    assert!(e.nudge(&mut r, 10.0, -50.0, 0.0));
    assert_eq!((at(&r, "a"), at(&r, "b")), ((110.0, 50.0), (410.0, 50.0)));
    assert_eq!((r.sent.len(), last_parts(&r)), (1, 2));
    // Stopped by the top edge as a group: a moves only as far as it can, b with it.
    e.nudge(&mut r, 0.0, -500.0, 5000.0);
    assert_eq!((at(&r, "a"), at(&r, "b")), ((110.0, 0.0), (410.0, 0.0)));
    // Against the edge: nothing to send, but the key was still the board's.
    assert!(e.nudge(&mut r, 0.0, -10.0, 10_000.0));
    assert_eq!(r.sent.len(), 2);
    select(&mut e, &mut r, &["c"]);
    e.nudge(&mut r, 5000.0, 0.0, 20_000.0);
    assert_eq!(at(&r, "c"), (BOARD_WIDTH - 140.0, 100.0));
}

#[test]
fn nudges_within_a_second_on_the_same_selection_are_one_undo_step() {
    let (mut e, mut r) = (editor(), three());
    select(&mut e, &mut r, &["a"]);
    e.nudge(&mut r, 10.0, 0.0, 0.0);
    e.nudge(&mut r, 10.0, 0.0, 900.0);
    // Each press starts the second afresh.
    e.nudge(&mut r, 10.0, 0.0, 1800.0);
    assert_eq!(at(&r, "a"), (130.0, 100.0));
    e.undo(&mut r);
    assert_eq!(at(&r, "a"), (100.0, 100.0), "one step");
    assert!(!e.can_undo());

    // A second or more apart: two steps.
    e.nudge(&mut r, 10.0, 0.0, 10_000.0);
    e.nudge(&mut r, 10.0, 0.0, 10_000.0 + NUDGE_BURST_MS);
    e.undo(&mut r);
    assert_eq!(at(&r, "a"), (110.0, 100.0));
    e.undo(&mut r);
    assert_eq!(at(&r, "a"), (100.0, 100.0));

    // Another selection: another step, however quick.
    e.nudge(&mut r, 10.0, 0.0, 20_000.0);
    select(&mut e, &mut r, &["a", "b"]);
    e.nudge(&mut r, 10.0, 0.0, 20_100.0);
    e.undo(&mut r);
    assert_eq!((at(&r, "a"), at(&r, "b")), ((110.0, 100.0), (400.0, 100.0)));

    // Another action between ends the burst.
    select(&mut e, &mut r, &["a"]);
    e.nudge(&mut r, 10.0, 0.0, 30_000.0);
    e.paint(&mut r, Color::Red);
    e.nudge(&mut r, 10.0, 0.0, 30_100.0);
    e.undo(&mut r);
    assert_eq!(at(&r, "a"), (120.0, 100.0), "only the last nudge is undone");
}

#[test]
fn delete_removes_the_selection_as_one_change_and_one_step() {
    let (mut e, mut r) = (editor(), three());
    assert!(!e.delete_selected(&mut r));
    select(&mut e, &mut r, &["a", "c"]);
    assert!(e.delete_selected(&mut r));
    assert_eq!((order(&r), selected(&e)), (vec!["b"], vec![]));
    assert_eq!((r.sent.len(), last_parts(&r)), (1, 2));
    assert!(e.take_dirty().history);
    e.undo(&mut r);
    assert_eq!(order(&r), ["b", "a", "c"], "back on top of their layer, in their order");
}

#[test]
fn colour_changes_only_shapes_of_another_fill_and_is_the_colour_for_new_shapes() {
    let (mut e, mut r) = (editor(), three());
    assert!(!e.paint(&mut r, Color::Green), "nothing selected: nothing to change");
    assert_eq!(e.color(), Some(Color::Green));
    select(&mut e, &mut r, &["a", "b", "c"]);
    // The circle is green already.
    assert!(e.paint(&mut r, Color::Green));
    assert_eq!((r.sent.len(), last_parts(&r)), (1, 2));
    assert!(!e.paint(&mut r, Color::Green), "all green now");
    assert_eq!(r.sent.len(), 1);
    e.add_shape(&mut r, R);
    assert_eq!(r.board.get(&id("n1")).unwrap().fill(), Color::Green);
    e.undo(&mut r);
    e.undo(&mut r);
    let fills: Vec<Color> = r.board.shapes().map(|s| s.fill()).collect();
    assert_eq!(fills, [R.default_color(), Color::Green, T.default_color()]);
}

#[test]
fn restacking_keeps_the_selections_own_order_and_does_nothing_when_already_there() {
    let mut r = room(&[("a", R, 100.0, 100.0), ("b", C, 400.0, 100.0), ("c", T, 700.0, 100.0), ("d", R, 100.0, 500.0)]);
    let mut e = editor();
    assert!(!e.restack(&mut r, Stack::ToFront), "nothing selected");
    select(&mut e, &mut r, &["c", "a"]);
    assert!(e.restack(&mut r, Stack::ToFront));
    assert_eq!(order(&r), ["b", "d", "a", "c"]);
    assert_eq!((r.sent.len(), last_parts(&r)), (1, 2));
    assert!(e.restack(&mut r, Stack::ToFront), "the key is still the board's");
    assert_eq!(r.sent.len(), 1, "already at the front: nothing sent");
    assert!(e.restack(&mut r, Stack::ToBack));
    assert_eq!(order(&r), ["a", "c", "b", "d"]);
    assert!(e.restack(&mut r, Stack::ToBack));
    assert_eq!(r.sent.len(), 2);
    e.undo(&mut r);
    assert_eq!(order(&r), ["b", "d", "a", "c"], "back on their layer (on top of it)");
}

#[test]
fn tab_cycles_through_the_shapes_and_leaves_the_board_past_either_end() {
    let (mut e, mut r) = (editor(), three());
    assert!(e.cycle(&mut r, false));
    assert_eq!(selected(&e), ["a"]);
    assert!(e.cycle(&mut r, false));
    assert!(e.cycle(&mut r, false));
    assert_eq!(selected(&e), ["c"]);
    assert!(!e.cycle(&mut r, false), "past the last: the focus moves on");
    assert!(selected(&e).is_empty());
    assert!(e.cycle(&mut r, true));
    assert_eq!(selected(&e), ["c"], "backwards from nothing: the topmost");
    assert!(e.cycle(&mut r, true));
    assert_eq!(selected(&e), ["b"]);
    // From a selection of several: from the last one selected, alone.
    select(&mut e, &mut r, &["c", "a"]);
    assert!(e.cycle(&mut r, false));
    assert_eq!(selected(&e), ["b"]);
    select(&mut e, &mut r, &["a"]);
    assert!(!e.cycle(&mut r, true));
    assert!(selected(&e).is_empty());
    let mut empty = Room::default();
    assert!(!e.cycle(&mut empty, false) && !e.cycle(&mut empty, true));
}

#[test]
fn select_all_and_clear() {
    let (mut e, mut r) = (editor(), three());
    assert!(!e.clear_selection(), "nothing to clear: Escape is the page's");
    assert!(e.select_all(&mut r));
    assert_eq!(selected(&e), ["a", "b", "c"]);
    assert!(e.clear_selection());
    assert!(selected(&e).is_empty());
    assert!(e.select_all(&mut Room::default()), "on an empty board too: Ctrl+A is the board's");
}

#[test]
fn undo_and_redo_through_the_editor() {
    let (mut e, mut r) = (editor(), three());
    assert!(!e.undo(&mut r) && !e.redo(&mut r));
    assert!(!e.take_dirty().history, "nothing to undo: nothing to save");
    select(&mut e, &mut r, &["a"]);
    e.nudge(&mut r, 10.0, 0.0, 0.0);
    e.take_dirty();
    assert!(e.undo(&mut r));
    assert!(e.take_dirty().history);
    assert_eq!(at(&r, "a"), (100.0, 100.0));
    assert!(e.can_redo() && !e.can_undo());
    assert!(e.redo(&mut r));
    assert_eq!(at(&r, "a"), (110.0, 100.0));
    // Undo does not merge with a nudge after it.
    e.nudge(&mut r, 10.0, 0.0, 100.0);
    e.undo(&mut r);
    assert_eq!(at(&r, "a"), (110.0, 100.0));

    // Someone moves it since: undoing my move leaves theirs, and is used up.
    others(&mut e, &mut r, Change::Move { id: id("a"), x: 500.0, y: 500.0 });
    assert!(!e.undo(&mut r), "nothing left of mine to undo");
    assert!(e.take_dirty().history, "the step was used up: keep that");
    assert_eq!(at(&r, "a"), (500.0, 500.0));

    // Undoing a creation deletes the shape, and it leaves the selection.
    e.add_shape(&mut r, C);
    assert_eq!(selected(&e), ["n1"]);
    e.undo(&mut r);
    assert!(r.board.get(&id("n1")).is_none() && selected(&e).is_empty());
}

#[test]
fn a_redo_the_board_refuses_is_forgotten() {
    let mut e = editor();
    let mut r = Room::default();
    e.add_shape(&mut r, C);
    e.undo(&mut r);
    // The board fills up meanwhile.
    for i in 0..crate::model::MAX_SHAPES {
        let shape = Shape::new(id(&format!("x{i}")), R, 0.0, 0.0);
        r.board.apply(&Change::Create { shape }).unwrap();
    }
    assert!(!e.redo(&mut r));
    assert!(!e.can_redo());
}

#[test]
fn copy_and_paste_keys_act_only_when_there_is_something() {
    let (mut e, mut r) = (editor(), three());
    let mut clipboard: Option<Vec<Shape>> = None;
    assert!(!e.run(&mut r, Command::Copy, 0.0, &mut clipboard), "nothing selected: the page copies its text");
    assert!(!e.run(&mut r, Command::Paste, 0.0, &mut clipboard), "nothing copied");
    assert_eq!(clipboard, None);
    select(&mut e, &mut r, &["b"]);
    assert!(e.run(&mut r, Command::Copy, 0.0, &mut clipboard));
    assert_eq!(clipboard.as_ref().map(|c| c[0].id.as_str()), Some("b"));
    assert!(e.run(&mut r, Command::Paste, 0.0, &mut clipboard));
    assert_eq!(selected(&e), ["n1"]);
    let mut empty: Option<Vec<Shape>> = Some(Vec::new());
    assert!(!e.run(&mut r, Command::Paste, 0.0, &mut empty), "an empty copy pastes nothing");
}

#[test]
fn run_carries_out_each_key_command() {
    let (mut e, mut r) = (editor(), three());
    let mut clip: Option<Vec<Shape>> = None;
    let mut run = |e: &mut Editor, r: &mut Room, c: Command| e.run(r, c, 0.0, &mut clip);
    assert!(run(&mut e, &mut r, Command::Cycle { back: false }));
    assert!(run(&mut e, &mut r, Command::Nudge { dx: 0.0, dy: 10.0 }));
    assert_eq!(at(&r, "a"), (100.0, 110.0));
    assert!(run(&mut e, &mut r, Command::Undo));
    assert!(run(&mut e, &mut r, Command::Redo));
    assert!(run(&mut e, &mut r, Command::ToFront));
    assert!(run(&mut e, &mut r, Command::ToBack));
    assert!(run(&mut e, &mut r, Command::Duplicate));
    assert!(run(&mut e, &mut r, Command::SelectAll));
    assert!(run(&mut e, &mut r, Command::Delete));
    assert!(r.board.is_empty());
    assert!(!run(&mut e, &mut r, Command::ClearSelection));
}

#[test]
fn text_size_changes_the_selection_that_differs_as_one_step() {
    let (mut e, mut r) = (editor(), three());
    assert!(!e.size_text(&mut r, TextSize::L), "nothing selected");
    select(&mut e, &mut r, &["a", "b"]);
    assert!(e.size_text(&mut r, TextSize::L));
    assert_eq!((r.sent.len(), last_parts(&r)), (1, 2));
    assert!(!e.size_text(&mut r, TextSize::L), "both large already");
    let sizes = |r: &Room| r.board.shapes().map(|s| s.text_size).collect::<Vec<_>>();
    assert_eq!(sizes(&r), [TextSize::L, TextSize::L, TextSize::M]);
    e.undo(&mut r);
    assert_eq!(sizes(&r), [TextSize::M; 3]);
}
