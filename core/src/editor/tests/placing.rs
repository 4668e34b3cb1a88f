//! Where new shapes go: added from the toolbar, duplicated, pasted, imported,
//! restored; each one step, on top, selected.

use super::*;
use crate::model::{BOARD_HEIGHT, BOARD_WIDTH, Color, MAX_SHAPES, changes_between};

#[test]
fn a_new_shape_goes_to_a_free_spot_on_top_selected_as_one_step() {
    let mut r = room(&[("a", R, 20.0, 20.0)]);
    r.board.apply(&Change::Layer { id: id("a"), z: 5 }).unwrap();
    let mut e = editor();
    let spot = r.board.free_spot(C);
    assert!(e.add_shape(&mut r, C));
    let n1 = r.board.get(&id("n1")).unwrap();
    assert_eq!(((n1.x, n1.y), n1.z, n1.color), (spot, 5, None));
    assert_eq!(order(&r), ["a", "n1"]);
    assert_eq!(selected(&e), ["n1"]);
    assert!(e.take_dirty().history);
    e.undo(&mut r);
    assert_eq!(order(&r), ["a"]);
}

#[test]
fn duplicate_copies_the_selection_offset_on_top_and_selects_the_copies() {
    let mut r = room(&[("a", R, 100.0, 100.0), ("b", C, 400.0, 100.0), ("c", T, 1000.0, 100.0)]);
    let mut e = editor();
    assert!(!e.duplicate(&mut r), "nothing selected");
    e.select_all(&mut r);
    e.pointer_down(&mut r, 1070.0, 160.0, true); // c out of the selection
    e.pointer_up(&mut r);
    assert!(e.duplicate(&mut r));
    assert_eq!(order(&r), ["a", "b", "c", "n1", "n2"]);
    assert_eq!((at(&r, "n1"), at(&r, "n2")), ((124.0, 124.0), (424.0, 124.0)));
    assert_eq!(selected(&e), ["n1", "n2"]);
    assert_eq!((r.sent.len(), last_parts(&r)), (1, 2));
    e.undo(&mut r);
    assert_eq!(order(&r), ["a", "b", "c"]);
}

#[test]
fn a_duplicate_at_the_edge_lands_as_far_as_the_board_allows() {
    let mut r = room(&[("a", R, BOARD_WIDTH - 170.0, BOARD_HEIGHT - 100.0)]);
    let mut e = editor();
    e.select_all(&mut r);
    e.duplicate(&mut r);
    assert_eq!(at(&r, "n1"), (BOARD_WIDTH - 160.0, BOARD_HEIGHT - 100.0));
}

#[test]
fn a_paste_lands_where_the_shapes_were_copied_or_beside_copies_of_them() {
    let mut from = room(&[("a", R, 100.0, 100.0), ("b", C, 400.0, 300.0)]);
    from.board.apply(&Change::Color { id: id("b"), color: crate::model::Color::Red }).unwrap();
    let mut e = editor();
    e.select_all(&mut from);
    let copied = e.copy(&from).unwrap();

    // Another room: the same layout and colours, on top, selected.
    let mut to = room(&[("x", C, 700.0, 700.0)]);
    let mut there = editor();
    assert!(there.paste(&mut to, copied.clone()));
    assert_eq!((at(&to, "n1"), at(&to, "n2")), ((100.0, 100.0), (400.0, 300.0)));
    assert_eq!(to.board.get(&id("n2")).unwrap().fill(), crate::model::Color::Red);
    assert_eq!(order(&to), ["x", "n1", "n2"]);
    assert_eq!(selected(&there), ["n1", "n2"]);
    // Again: beside the first copies; and again, beside those.
    there.paste(&mut to, copied.clone());
    assert_eq!((at(&to, "n3"), at(&to, "n4")), ((124.0, 124.0), (424.0, 324.0)));
    there.paste(&mut to, copied.clone());
    assert_eq!(at(&to, "n5"), (148.0, 148.0));
    // One step each.
    there.undo(&mut to);
    assert_eq!(to.board.len(), 5);

    // Only the same kind in the same place counts as covered.
    let mut other = room(&[("y", C, 100.0, 100.0)]);
    there.paste(&mut other, copied[..1].to_vec());
    assert_eq!(at(&other, "n7"), (100.0, 100.0));
}

#[test]
fn a_paste_stays_on_the_board_and_holds_at_most_a_boards_worth() {
    let mut e = editor();
    let mut r = Room::default();
    assert!(!e.paste(&mut r, Vec::new()));
    // Off the board (a hand-edited clipboard): clamped onto it.
    let far = Shape::new(id("f"), R, 5000.0, -80.0);
    assert!(e.paste(&mut r, vec![far.clone()]));
    assert_eq!(at(&r, "n1"), (BOARD_WIDTH - 160.0, 0.0));
    // Pasted again over its copy in the corner: moved on as far as the board
    // allows (down only).
    e.paste(&mut r, vec![far.clone()]);
    assert_eq!(at(&r, "n2"), (BOARD_WIDTH - 160.0, 24.0));

    let mut e = editor();
    let mut r = Room::default();
    let many = (0..MAX_SHAPES + 5).map(|i| Shape::new(id(&format!("s{i}")), C, (i % 100) as f64, 0.0)).collect();
    assert!(e.paste(&mut r, many));
    assert_eq!((r.board.len(), e.selection().len()), (MAX_SHAPES, MAX_SHAPES));
    assert_eq!(r.sent.len(), 1, "one change");
}

#[test]
fn import_adds_the_shapes_as_they_are_selected_as_one_step() {
    let mut r = room(&[("a", R, 100.0, 100.0)]);
    let mut e = editor();
    let shapes = vec![Shape::new(id("i1"), C, 10.0, 10.0), Shape::new(id("i2"), T, 300.0, 10.0)];
    assert!(e.import(&mut r, shapes));
    assert_eq!(order(&r), ["a", "i1", "i2"]);
    assert_eq!(selected(&e), ["i1", "i2"]);
    assert!(!e.import(&mut r, vec![Shape::new(id("a"), C, 0.0, 0.0)]), "refused: the id is taken");
    assert_eq!(selected(&e), ["i1", "i2"], "a refused import selects nothing new");
    e.undo(&mut r);
    assert_eq!(order(&r), ["a"]);
}

#[test]
fn restoring_a_version_is_one_step() {
    let mut r = room(&[("a", R, 100.0, 100.0), ("b", C, 400.0, 100.0)]);
    let version = r.board.clone();
    r.board.apply(&Change::Delete { id: id("a") }).unwrap();
    r.board.apply(&Change::Move { id: id("b"), x: 0.0, y: 0.0 }).unwrap();
    let mut e = editor();
    let changes = changes_between(&r.board, &version);
    assert!(e.restore(&mut r, changes));
    assert_eq!(r.board, version);
    let changes = changes_between(&r.board, &version);
    assert!(!e.restore(&mut r, changes), "nothing to do");
    e.undo(&mut r);
    assert_eq!((order(&r), at(&r, "b")), (vec!["b"], (0.0, 0.0)));
}

#[test]
fn a_note_is_a_yellow_square_of_200() {
    let (mut e, mut r) = (editor(), room(&[]));
    assert!(e.add_shape(&mut r, ShapeKind::Note));
    let note = r.board.shapes().next().unwrap();
    assert_eq!((note.kind, note.size(), note.fill()), (ShapeKind::Note, (200.0, 200.0), Color::Yellow));
    assert!(note.contains(note.x + 1.0, note.y + 1.0), "picked to its corners, as a rectangle");
    assert_eq!(selected(&e), [note.id.as_str()]);
}
