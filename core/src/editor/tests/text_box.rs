//! The Text tool and text boxes: a click starts one where it lands, it grows
//! with its text in the same step as the letters, the first typing is one
//! undo step with the box, and a box left empty is gone without a trace.

use super::*;
use crate::editor::keys::Command;
use crate::model::{CharId, Color, TextSize};

fn shape<'a>(r: &'a Room, name: &str) -> &'a Shape {
    r.board.get(&id(name)).unwrap()
}

/// Chooses the Text tool with its key and clicks at (`x`, `y`).
fn click_text(e: &mut Editor, r: &mut Room, x: f64, y: f64) {
    let mut clipboard = None;
    assert!(e.run(r, Command::Tool(ToolKind::Text), 0.0, &mut clipboard));
    assert_eq!(e.tool(), ToolKind::Text);
    let shapes = r.board.len();
    assert!(e.pointer_down(r, x, y, false));
    // The press ends any writing; the box comes on release, as a click.
    assert!(e.writing().is_none() && r.board.len() <= shapes);
    e.pointer_up(r);
    assert_eq!(e.tool(), ToolKind::Select, "the select tool is back");
}

#[test]
fn a_click_starts_a_text_box_there_which_grows_with_its_text_as_one_step_with_it() {
    let (mut e, mut r) = (editor(), room(&[]));
    e.paint(&mut r, Color::Blue);
    click_text(&mut e, &mut r, 300.0, 200.0);
    // The click is at the start of its first line: the margin left of it, the line's middle on it.
    let made = shape(&r, "n1");
    assert_eq!((made.kind, made.frame(), made.color), (ShapeKind::Text, [292.0, 177.0, 28.0, 46.0], Some(Color::Blue)));
    assert_eq!((e.writing(), selected(&e)), (Some(&id("n1")), vec!["n1"]));
    e.field_text(&r, 0, 0);
    // Each letter widens it (an estimate here: 13.2 units a letter of size M, plus margins and room
    // for the caret), in the same change as the letter; a line break makes it taller.
    assert!(e.typed(&mut r, "H", 0.0));
    assert!(matches!(&r.sent[1], Change::Batch { changes } if changes.len() == 2));
    assert!(e.typed(&mut r, "Hi", 100.0));
    assert_eq!(shape(&r, "n1").frame(), [292.0, 177.0, 55.0, 46.0]);
    assert!(e.typed(&mut r, "Hi\nthere", 200.0));
    assert_eq!(shape(&r, "n1").frame(), [292.0, 177.0, 94.0, 76.0]);
    // Fewer letters, smaller again.
    assert!(e.typed(&mut r, "Hi\nthe", 300.0));
    assert_eq!(shape(&r, "n1").size(), (68.0, 76.0));
    e.stop_writing(&mut r);
    assert!(r.board.get(&id("n1")).is_some(), "a box with text stays");
    // The box and its first burst of letters are one step.
    assert!(e.undo(&mut r));
    assert!(r.board.is_empty());
    assert!(!e.can_undo());
    assert!(e.redo(&mut r));
    assert_eq!((shape(&r, "n1").text.shown(), shape(&r, "n1").size()), ("Hi\nthe".to_owned(), (68.0, 76.0)));
}

#[test]
fn a_text_box_left_empty_is_gone_and_leaves_nothing_to_undo() {
    let (mut e, mut r) = (editor(), room(&[]));
    click_text(&mut e, &mut r, 300.0, 200.0);
    e.stop_writing(&mut r);
    assert!(r.board.is_empty());
    assert!(!e.can_undo(), "nothing happened, as far as undo is concerned");
    // Spaces only count as empty; so does writing in another shape instead.
    click_text(&mut e, &mut r, 300.0, 200.0);
    e.field_text(&r, 0, 0);
    e.typed(&mut r, "  ", 0.0);
    click_text(&mut e, &mut r, 900.0, 600.0);
    assert_eq!(order(&r), ["n5"], "the one before, left empty, is gone");
    e.stop_writing(&mut r);
    assert!(r.board.is_empty() && !e.can_undo());
    // A box that had text, emptied later: deleted, and one undo brings it back with its text.
    click_text(&mut e, &mut r, 300.0, 200.0);
    e.field_text(&r, 0, 0);
    e.typed(&mut r, "Plan", 0.0);
    e.stop_writing(&mut r);
    let name = order(&r)[0].to_owned();
    assert!(e.start_writing(&mut r, &id(&name)));
    e.field_text(&r, 4, 4);
    e.typed(&mut r, "", 5_000.0);
    e.stop_writing(&mut r);
    assert!(r.board.is_empty());
    assert!(e.undo(&mut r));
    assert_eq!(shape(&r, &name).text.shown(), "Plan");
}

#[test]
fn an_empty_box_someone_else_is_writing_in_is_theirs_to_keep() {
    let (mut e, mut r) = (editor(), room(&[]));
    // Someone else's fresh, empty box: opened here and left without typing, it stays.
    let theirs = Shape { w: 28.0, h: 46.0, ..Shape::new(id("theirs"), ShapeKind::Text, 300.0, 200.0) };
    others(&mut e, &mut r, Change::Create { shape: theirs });
    assert!(e.double_click(&mut r, 310.0, 220.0));
    assert_eq!(e.writing(), Some(&id("theirs")));
    e.stop_writing(&mut r);
    assert_eq!(order(&r), ["theirs"]);
    assert!(!e.can_undo());
    // Emptied here, it goes.
    e.double_click(&mut r, 310.0, 220.0);
    e.field_text(&r, 0, 0);
    e.typed(&mut r, "x", 0.0);
    e.typed(&mut r, "", 100.0);
    e.stop_writing(&mut r);
    assert!(r.board.is_empty());
}

#[test]
fn the_box_fits_the_text_as_it_will_be_with_letters_the_field_has_not_shown_yet() {
    let (mut e, mut r) = (editor(), room(&[]));
    assert!(e.write_at(&mut r, 300.0, 200.0));
    e.field_text(&r, 0, 0);
    e.typed(&mut r, "Hi", 0.0);
    // Someone appends a long word before this tab's field is given it; then this tab types.
    let after = shape(&r, "n1").text.shown_ids().last();
    others(&mut e, &mut r, Change::Write { id: id("n1"), after, at: CharId(99, 0), text: " everyone".into() });
    e.typed(&mut r, "Hi!", 100.0);
    let text = shape(&r, "n1").text.shown();
    assert_eq!(text, "Hi! everyone");
    let (w, _) =
        crate::lettering::fitted(&text, TextSize::M, |s, size| crate::lettering::estimated_width(s, size.units()));
    assert_eq!(shape(&r, "n1").w, w);
}

#[test]
fn a_double_click_on_a_handle_over_empty_board_writes_nothing() {
    let (mut e, mut r) = (editor(), room(&[("c", C, 400.0, 400.0)]));
    e.pointer_down(&mut r, 460.0, 460.0, false);
    e.pointer_up(&mut r);
    assert_eq!(selected(&e), ["c"]);
    // The circle's top-left corner handle lies beside the circle, over nothing.
    assert!(e.handle_at(&r.board, 400.0, 400.0).is_some());
    assert!(!e.double_click(&mut r, 400.0, 400.0));
    assert_eq!((order(&r), e.writing()), (vec!["c"], None));
}

#[test]
fn a_double_click_writes_in_the_shape_there_or_in_a_new_text_box() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 100.0, 100.0)]));
    assert!(e.write_at(&mut r, 150.0, 150.0));
    assert_eq!((order(&r), e.writing()), (vec!["a"], Some(&id("a"))));
    assert!(e.write_at(&mut r, 600.5, 500.2));
    let made = shape(&r, "n2");
    assert_eq!((made.kind, made.x, made.y), (ShapeKind::Text, 593.0, 477.0), "whole units");
    assert_eq!(e.writing(), Some(&id("n2")));
}

#[test]
fn a_click_on_a_shape_writes_in_it_and_escape_puts_the_tool_down() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 100.0, 100.0)]));
    click_text(&mut e, &mut r, 150.0, 150.0);
    assert_eq!((order(&r), e.writing()), (vec!["a"], Some(&id("a"))));
    e.field_text(&r, 0, 0);
    e.typed(&mut r, "Plan", 0.0);
    assert_eq!(shape(&r, "a").size(), (160.0, 100.0), "only text boxes fit their text");
    e.stop_writing(&mut r);
    let mut clipboard = None;
    e.run(&mut r, Command::Tool(ToolKind::Text), 0.0, &mut clipboard);
    assert!(e.run(&mut r, Command::ClearSelection, 0.0, &mut clipboard), "Escape acted");
    assert_eq!(e.tool(), ToolKind::Select);
    assert!(e.pointer_down(&mut r, 150.0, 150.0, false), "the select tool drags");
}

#[test]
fn a_turned_text_box_grows_from_its_corner_and_a_new_text_size_refits_it() {
    let (mut e, mut r) = (editor(), room(&[]));
    click_text(&mut e, &mut r, 300.0, 200.0);
    let turned = Change::Rotate { id: id("n1"), rotation: 90.0 };
    r.submit(turned);
    let corner = shape(&r, "n1").corners()[0];
    e.field_text(&r, 0, 0);
    e.typed(&mut r, "Longer line", 0.0);
    let now = shape(&r, "n1").corners()[0];
    assert!((now.0 - corner.0).abs() < 1e-9 && (now.1 - corner.1).abs() < 1e-9, "{corner:?} → {now:?}");
    e.stop_writing(&mut r);
    // L: 36 units a line, and wider.
    let before = shape(&r, "n1").size();
    assert!(e.size_text(&mut r, TextSize::L));
    let after = shape(&r, "n1");
    assert_eq!((after.text_size, after.h), (TextSize::L, 36.0 * 1.25 + 16.0));
    assert!(after.w > before.0);
    assert!(e.undo(&mut r));
    assert_eq!((shape(&r, "n1").text_size, shape(&r, "n1").size()), (TextSize::M, before));
}
