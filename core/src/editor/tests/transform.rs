//! Resizing and turning, from the keyboard and by the frame's handles: one
//! shape in its own frame, a group by its box, each press (or frame of a
//! drag) one change, a burst (or a drag) one undo step, and undo leaving
//! alone what others set since.

use super::*;
use crate::editor::{Handle, Held};
use crate::model::{BOARD_HEIGHT, BOARD_WIDTH, Color, MIN_SIDE};

fn shape<'a>(r: &'a Room, name: &str) -> &'a Shape {
    r.board.get(&id(name)).unwrap()
}

fn frame(r: &Room, name: &str) -> [f64; 4] {
    shape(r, name).frame().map(|v| (v * 1000.0).round() / 1000.0)
}

fn select(e: &mut Editor, r: &mut Room, names: &[&str]) {
    e.clear_selection();
    for name in names {
        let (x, y) = shape(r, name).centre();
        e.pointer_down(r, x, y, true);
        e.pointer_up(r);
    }
}

#[test]
fn alt_arrows_resize_one_shape_from_its_top_left_corner_within_the_limits() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 100.0, 100.0)]));
    assert!(!e.grow(&mut r, 10.0, 0.0, 0.0), "nothing selected");
    select(&mut e, &mut r, &["a"]);
    assert!(e.grow(&mut r, 10.0, 0.0, 0.0));
    assert!(e.grow(&mut r, 0.0, 50.0, 100.0));
    assert_eq!(frame(&r, "a"), [100.0, 100.0, 170.0, 150.0]);
    assert_eq!(r.sent.len(), 2, "one change a press");
    e.grow(&mut r, -1000.0, -1000.0, 200.0);
    assert_eq!(frame(&r, "a"), [100.0, 100.0, MIN_SIDE, MIN_SIDE], "no smaller than the least side");
    e.grow(&mut r, 5000.0, 5000.0, 300.0);
    assert_eq!(frame(&r, "a"), [0.0, 0.0, BOARD_WIDTH, BOARD_HEIGHT], "no bigger than the board, and on it");
    // The burst was one step: one undo takes it back to where it began.
    assert!(e.undo(&mut r));
    assert_eq!(frame(&r, "a"), [100.0, 100.0, 160.0, 100.0]);
}

#[test]
fn a_turned_shape_grows_along_its_own_sides_keeping_its_corner() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 400.0, 400.0)]));
    r.board.apply(&Change::Rotate { id: id("a"), rotation: 90.0 }).unwrap();
    let corner = |r: &Room| shape(r, "a").corners()[0];
    let before = corner(&r);
    select(&mut e, &mut r, &["a"]);
    e.grow(&mut r, 40.0, 0.0, 0.0);
    let s = shape(&r, "a");
    assert_eq!((s.w, s.h), (200.0, 100.0));
    let after = corner(&r);
    assert!((after.0 - before.0).abs() < 1e-9 && (after.1 - before.1).abs() < 1e-9, "{before:?} → {after:?}");
    // Turned a quarter, its width runs down the board.
    let [_, y0, _, y1] = s.bounds();
    assert!((y1 - y0 - 200.0).abs() < 1e-9);
}

#[test]
fn a_group_scales_inside_its_box() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 100.0, 100.0), ("b", C, 360.0, 300.0)]));
    // The box: 100..480 × 100..420, 380 × 320.
    select(&mut e, &mut r, &["a", "b"]);
    assert!(e.grow(&mut r, 380.0, 0.0, 0.0));
    assert_eq!(r.sent.len(), 1, "one change for the group");
    assert_eq!(frame(&r, "a"), [100.0, 100.0, 320.0, 100.0]);
    assert_eq!(frame(&r, "b"), [620.0, 300.0, 240.0, 120.0]);
}

#[test]
fn greater_and_less_than_turn_by_fifteen_degrees_about_the_selections_centre() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 100.0, 400.0), ("b", R, 500.0, 400.0)]));
    select(&mut e, &mut r, &["a"]);
    assert!(e.rotate(&mut r, -15.0, 0.0));
    assert_eq!(shape(&r, "a").rotation, 345.0);
    assert_eq!(frame(&r, "a"), [100.0, 400.0, 160.0, 100.0], "one shape turns in place");
    e.rotate(&mut r, 15.0, 100.0);
    assert_eq!(shape(&r, "a").rotation, 0.0);
    // A group turns about its box's centre (420, 450): a half turn swaps them.
    select(&mut e, &mut r, &["a", "b"]);
    for i in 0..12 {
        e.rotate(&mut r, 15.0, 2000.0 + f64::from(i) * 100.0);
    }
    assert_eq!((frame(&r, "a"), shape(&r, "a").rotation), ([500.0, 400.0, 160.0, 100.0], 180.0));
    assert_eq!(frame(&r, "b"), [100.0, 400.0, 160.0, 100.0]);
    // The twelve presses were one step.
    e.undo(&mut r);
    assert_eq!((frame(&r, "a"), frame(&r, "b")), ([100.0, 400.0, 160.0, 100.0], [500.0, 400.0, 160.0, 100.0]));
    assert_eq!(shape(&r, "b").rotation, 0.0);
}

#[test]
fn undoing_a_resize_keeps_what_others_set_since_property_by_property() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 100.0, 100.0)]));
    select(&mut e, &mut r, &["a"]);
    e.grow(&mut r, 40.0, 20.0, 0.0);
    e.rotate(&mut r, 30.0, 10_000.0);
    // Someone else moves and recolours it.
    others(&mut e, &mut r, Change::Move { id: id("a"), x: 700.0, y: 500.0 });
    others(&mut e, &mut r, Change::Color { id: id("a"), color: Color::Red });
    assert!(e.undo(&mut r), "the turn");
    assert_eq!(shape(&r, "a").rotation, 0.0);
    assert!(e.undo(&mut r), "the resize");
    let s = shape(&r, "a");
    assert_eq!((s.x, s.y, s.w, s.h, s.fill()), (700.0, 500.0, 160.0, 100.0, Color::Red), "their move and colour stay");
    // And someone resizing it since makes the size theirs.
    e.redo(&mut r);
    others(&mut e, &mut r, Change::Resize { id: id("a"), x: 700.0, y: 500.0, w: 50.0, h: 50.0 });
    let _ = e.undo(&mut r);
    assert_eq!(frame(&r, "a"), [700.0, 500.0, 50.0, 50.0]);
}

/// Presses the handle `h` of the selection's frame and drags it to (`x`, `y`)
/// with these keys held, a frame flushed on the way.
fn drag_handle(e: &mut Editor, r: &mut Room, h: Handle, to: (f64, f64), keys: Held) {
    let frame = e.frame(&r.board).unwrap();
    let (hx, hy) = frame.at(h, 1.0);
    assert_eq!(e.handle_at(&r.board, hx + 3.0, hy - 3.0), Some(h), "grabbed near enough");
    assert!(e.pointer_down(r, hx, hy, false));
    e.hold(keys);
    e.pointer_move(r, (hx + to.0) / 2.0, (hy + to.1) / 2.0);
    e.flush_drag(r);
    e.pointer_move(r, to.0, to.1);
    e.pointer_up(r);
}

const PLAIN: Held = Held { shift: false, alt: false };
const SHIFT: Held = Held { shift: true, alt: false };
const ALT: Held = Held { shift: false, alt: true };

fn corner(fx: f64, fy: f64) -> Handle {
    Handle::Resize { fx, fy }
}

#[test]
fn a_corner_resizes_both_ways_keeping_the_opposite_corner_streaming_as_it_goes() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 100.0, 100.0)]));
    select(&mut e, &mut r, &["a"]);
    // The bottom-right corner from (260, 200) to (400, 260).
    drag_handle(&mut e, &mut r, corner(1.0, 1.0), (400.0, 260.0), PLAIN);
    assert_eq!(frame(&r, "a"), [100.0, 100.0, 300.0, 160.0]);
    assert_eq!(r.sent.len(), 2, "one change a frame: others see it as it happens");
    // The left edge's middle: only the width, the right edge stays.
    drag_handle(&mut e, &mut r, corner(0.0, 0.5), (50.0, 999.0), PLAIN);
    assert_eq!(frame(&r, "a"), [50.0, 100.0, 350.0, 160.0]);
    // Dragged past the opposite edge, it stops at the least side instead of flipping.
    drag_handle(&mut e, &mut r, corner(1.0, 0.5), (0.0, 150.0), PLAIN);
    assert_eq!(frame(&r, "a"), [50.0, 100.0, 10.0, 160.0]);
    // Each gesture one undo step.
    e.undo(&mut r);
    e.undo(&mut r);
    assert_eq!(frame(&r, "a"), [100.0, 100.0, 300.0, 160.0]);
}

#[test]
fn shift_keeps_proportions_and_alt_resizes_about_the_centre() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 400.0, 400.0)]));
    select(&mut e, &mut r, &["a"]);
    // 160 × 100 made twice as wide by its corner: twice as tall too.
    drag_handle(&mut e, &mut r, corner(1.0, 1.0), (720.0, 420.0), SHIFT);
    assert_eq!(frame(&r, "a"), [400.0, 400.0, 320.0, 200.0]);
    // Alt: the right edge out by 40 grows the left edge out by 40 too.
    drag_handle(&mut e, &mut r, corner(1.0, 0.5), (760.0, 500.0), ALT);
    assert_eq!(frame(&r, "a"), [360.0, 400.0, 400.0, 200.0]);
}

#[test]
fn a_turned_shapes_handles_follow_its_turn() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 400.0, 400.0)]));
    r.board.apply(&Change::Rotate { id: id("a"), rotation: 90.0 }).unwrap();
    select(&mut e, &mut r, &["a"]);
    // Turned a quarter, the box's right edge faces down: its middle is below the centre (480, 450).
    let f = e.frame(&r.board).unwrap();
    let (hx, hy) = f.at(corner(1.0, 0.5), 1.0);
    assert!((hx - 480.0).abs() < 1e-9 && (hy - 530.0).abs() < 1e-9, "({hx}, {hy})");
    // Pulled 40 further down, the shape is 40 wider; its top edge (now on the left) stays.
    drag_handle(&mut e, &mut r, corner(1.0, 0.5), (480.0, 570.0), PLAIN);
    let s = shape(&r, "a");
    assert_eq!((s.w.round(), s.h.round()), (200.0, 100.0));
    let [x0, y0, x1, y1] = s.bounds().map(f64::round);
    assert_eq!([x0, y0, x1, y1], [430.0, 370.0, 530.0, 570.0]);
}

#[test]
fn the_rotation_handle_turns_about_the_centre_and_shift_snaps() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 400.0, 400.0), ("b", R, 800.0, 400.0)]));
    select(&mut e, &mut r, &["a"]);
    // From above the centre (480, 450) to its right: a quarter turn clockwise.
    drag_handle(&mut e, &mut r, Handle::Rotate, (700.0, 450.0), PLAIN);
    assert!((shape(&r, "a").rotation - 90.0).abs() < 1e-9);
    assert_eq!(frame(&r, "a"), [400.0, 400.0, 160.0, 100.0], "in place");
    // Shift: 20° more (to 110°) snaps to 105°.
    let c = (480.0, 450.0);
    let at = |deg: f64| {
        let t = (deg - 90.0).to_radians();
        (c.0 + 200.0 * t.cos(), c.1 + 200.0 * t.sin())
    };
    drag_handle(&mut e, &mut r, Handle::Rotate, at(110.0), SHIFT);
    assert_eq!(shape(&r, "a").rotation, 105.0);
    // A group turns as one about its box's centre: a half turn swaps the two.
    select(&mut e, &mut r, &["a", "b"]);
    let before = (frame(&r, "a"), frame(&r, "b"));
    let f = e.frame(&r.board).unwrap();
    let (cx, cy) = f.centre();
    drag_handle(&mut e, &mut r, Handle::Rotate, (cx, cy + 300.0), SHIFT);
    let (a, b) = (shape(&r, "a").centre(), shape(&r, "b").centre());
    assert!(a.0 > b.0, "swapped sides: {a:?} {b:?}");
    e.undo(&mut r);
    assert_eq!((frame(&r, "a"), frame(&r, "b")), before);
}

#[test]
fn a_group_scales_by_its_frame_as_one_change_a_frame() {
    let (mut e, mut r) = (editor(), room(&[("a", R, 100.0, 100.0), ("b", C, 360.0, 300.0)]));
    select(&mut e, &mut r, &["a", "b"]);
    // The box 100..480 × 100..420, its bottom-right corner pulled out to double it.
    drag_handle(&mut e, &mut r, corner(1.0, 1.0), (860.0, 740.0), PLAIN);
    assert_eq!(frame(&r, "a"), [100.0, 100.0, 320.0, 200.0]);
    assert_eq!(frame(&r, "b"), [620.0, 500.0, 240.0, 240.0]);
    assert!(r.sent.iter().all(|c| matches!(c, Change::Batch { changes } if changes.len() == 2)));
}
