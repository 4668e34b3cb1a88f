//! Unit tests of the board: rules, layers, hit-testing, free spots, snapshots.
#![allow(clippy::unwrap_used)] // tests unwrap what must hold

use super::super::change::Coord;
use super::*;

fn id(s: &str) -> ShapeId {
    ShapeId::parse(s).unwrap()
}

fn create(name: &str, kind: ShapeKind, x: f64, y: f64) -> Change {
    Change::Create { shape: Shape::new(id(name), kind, x, y) }
}

#[test]
fn create_move_delete() {
    let mut b = Board::new();
    b.apply(&create("a", ShapeKind::Circle, 10.0, 20.0)).unwrap();
    b.apply(&Change::Move { id: id("a"), x: 30.0, y: 40.0 }).unwrap();
    assert_eq!(b.get(&id("a")).map(|s| (s.x, s.y)), Some((30.0, 40.0)));
    b.apply(&Change::Delete { id: id("a") }).unwrap();
    assert!(b.is_empty());
    // Deleting again is a harmless no-op.
    b.apply(&Change::Delete { id: id("a") }).unwrap();
}

#[test]
fn rejections_leave_the_board_alone() {
    let mut b = Board::new();
    b.apply(&create("a", ShapeKind::Rectangle, 0.0, 0.0)).unwrap();
    let before = b.clone();
    let bad = [
        create("a", ShapeKind::Circle, 5.0, 5.0),
        create("b", ShapeKind::Circle, -1.0, 5.0),
        create("b", ShapeKind::Circle, f64::NAN, 5.0),
        create("b", ShapeKind::Circle, BOARD_WIDTH, 5.0),
        Change::Move { id: id("a"), x: f64::INFINITY, y: 0.0 },
        Change::Move { id: id("a"), x: BOARD_WIDTH - 159.0, y: 0.0 },
        Change::Move { id: id("zz"), x: 1.0, y: 1.0 },
    ];
    for change in bad {
        assert!(b.apply(&change).is_err(), "{change:?} should be refused");
        assert_eq!(b, before);
    }
}

#[test]
fn coordinates_read_well_without_float_formatting() {
    let shown = |x: f64| Coord(x).to_string();
    assert_eq!(shown(120.0), "120");
    assert_eq!(shown(-1.5), "-1.5");
    assert_eq!(shown(1441.257), "1441.26");
    assert_eq!(shown(0.004), "0");
    assert_eq!(
        (shown(f64::NAN), shown(f64::INFINITY), shown(-1e300)),
        ("NaN".into(), "infinity".into(), shown(i64::MIN as f64 / 100.0))
    );
    let e = ChangeError::OutOfBounds { w: 120.0, h: 120.0, x: 1500.5, y: -3.0 };
    assert_eq!(e.to_string(), "position (1500.5, -3) is outside the board for a shape of 120 × 120");
}

#[test]
fn shape_limit_is_enforced() {
    let mut b = Board::new();
    for i in 0..MAX_SHAPES {
        b.apply(&create(&format!("s{i}"), ShapeKind::Circle, 0.0, 0.0)).unwrap();
    }
    assert_eq!(b.apply(&create("one-more", ShapeKind::Circle, 0.0, 0.0)), Err(ChangeError::TooManyShapes));
}

#[test]
fn a_group_moves_as_one_up_to_the_edge() {
    let group = [[10.0, 500.0, 120.0, 120.0], [1400.0, 20.0, 160.0, 100.0]];
    // The rectangle meets the right edge after 40, the circle the left after 10.
    assert_eq!(clamp_offset(group.into_iter(), 100.0, 0.0), (40.0, 0.0));
    assert_eq!(clamp_offset(group.into_iter(), -100.0, -100.0), (-10.0, -20.0));
    assert_eq!(clamp_offset(group.into_iter(), f64::NAN, 5.0), (0.0, 5.0));
    assert_eq!(clamp_offset(std::iter::empty(), 7.0, 8.0), (7.0, 8.0));
}

#[test]
fn hit_test_finds_the_topmost() {
    let mut b = Board::new();
    b.apply(&create("under", ShapeKind::Rectangle, 0.0, 0.0)).unwrap();
    b.apply(&create("over", ShapeKind::Rectangle, 50.0, 50.0)).unwrap();
    assert_eq!(b.hit_test(60.0, 60.0).map(|s| s.id.as_str()), Some("over"));
    assert_eq!(b.hit_test(10.0, 10.0).map(|s| s.id.as_str()), Some("under"));
    assert!(b.hit_test(1000.0, 900.0).is_none());
}

#[test]
fn free_spot_avoids_existing_shapes() {
    let mut b = Board::new();
    for i in 0..30 {
        let kind = ShapeKind::ALL[i % 3];
        let (x, y) = b.free_spot(kind);
        let (w, h) = kind.size();
        for s in b.shapes() {
            let (sw, sh) = s.size();
            let apart = x + w <= s.x || s.x + sw <= x || y + h <= s.y || s.y + sh <= y;
            assert!(apart, "spot {i} at ({x}, {y}) overlaps {}", s.id);
        }
        b.apply(&create(&format!("s{i}"), kind, x, y)).unwrap();
    }
}

#[test]
fn snapshot_round_trips_in_order() {
    let mut b = Board::new();
    b.apply(&create("z", ShapeKind::Circle, 1.0, 1.0)).unwrap();
    b.apply(&create("a", ShapeKind::Triangle, 2.0, 2.0)).unwrap();
    let json = serde_json::to_string(&b).unwrap();
    let back: Board = serde_json::from_str(&json).unwrap();
    assert_eq!(back, b);
    let reversed = Board::try_from(b.shapes().rev().cloned().collect::<Vec<_>>()).unwrap();
    assert_ne!(reversed, b, "drawing order is part of a board");
    assert_eq!(back.shapes().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["z", "a"]);
}

#[test]
fn a_snapshot_holds_only_what_changes_could_have_made() {
    let shape = |id: &str, x: f64| format!(r#"{{"id":"{id}","kind":"circle","x":{x},"y":0}}"#);
    let read = |shapes: &[String]| serde_json::from_str::<Board>(&format!("[{}]", shapes.join(",")));
    assert!(read(&[shape("a", 0.0), shape("b", 10.0)]).is_ok());
    assert!(read(&[shape("a", 0.0), shape("a", 10.0)]).is_err(), "the same id twice");
    assert!(read(&[shape("a", 1500.0)]).is_err(), "off the board");
    let too_many: Vec<String> = (0..=MAX_SHAPES).map(|i| shape(&format!("s{i}"), 0.0)).collect();
    assert!(read(&too_many).is_err(), "more than a room may hold");
}

#[test]
fn a_batch_of_many_deletes_ends_as_the_same_deletes_one_by_one() {
    let mut board = Board::new();
    for i in 0..200 {
        board.apply(&create(&format!("s{i}"), ShapeKind::Circle, f64::from(i % 50) * 20.0, 10.0)).unwrap();
        board.apply(&Change::Layer { id: id(&format!("s{i}")), z: i64::from(i % 7) - 3 }).unwrap();
    }
    let delete = |i: u32| Change::Delete { id: id(&format!("s{i}")) };
    // Runs long and short, repeats, ids that are not there, and other changes between the runs.
    let mut changes: Vec<Change> = (0..60).map(delete).collect();
    changes.extend([delete(3), delete(999), create("new", ShapeKind::Rectangle, 5.0, 5.0)]);
    changes.extend((100..140).map(delete));
    changes.push(Change::Layer { id: id("s150"), z: 2 });
    changes.extend([delete(160), delete(161)]);
    changes.extend((170..190).map(delete));
    let mut one_by_one = board.clone();
    for change in &changes {
        one_by_one.apply(change).unwrap();
    }
    board.apply(&Change::Batch { changes }).unwrap();
    assert_eq!(board, one_by_one, "the same shapes, in the same drawing order");
    assert_eq!(board.len(), 200 - 60 - 40 - 2 - 20 + 1);
}

#[test]
fn a_batch_of_many_layer_changes_ends_as_the_same_changes_one_by_one() {
    let mut board = Board::new();
    for i in 0..120 {
        board.apply(&create(&format!("s{i}"), ShapeKind::Triangle, f64::from(i % 50) * 20.0, 10.0)).unwrap();
        board.apply(&Change::Layer { id: id(&format!("s{i}")), z: i64::from(i % 5) - 2 }).unwrap();
    }
    let layer = |i: u32, z: i64| Change::Layer { id: id(&format!("s{i}")), z };
    // To the front, to the back, onto layers that hold shapes and that hold none, one shape twice.
    let mut changes: Vec<Change> = (0..40).map(|i| layer(i, 9)).collect();
    changes.extend((40..70).map(|i| layer(i, i64::from(i % 3) - 1)));
    changes.extend([layer(5, -4), layer(80, 0), layer(5, 1)]);
    changes.push(Change::Move { id: id("s90"), x: 1.0, y: 1.0 });
    changes.extend((90..110).map(|i| layer(i, -7)));
    let mut one_by_one = board.clone();
    for change in &changes {
        one_by_one.apply(change).unwrap();
    }
    board.apply(&Change::Batch { changes }).unwrap();
    assert_eq!(board, one_by_one, "the same shapes, in the same drawing order");
}

#[test]
fn a_shape_is_resized_and_turned_within_the_rules() {
    let mut b = Board::new();
    b.apply(&create("a", ShapeKind::Rectangle, 100.0, 100.0)).unwrap();
    let resize = |x, y, w, h| Change::Resize { id: id("a"), x, y, w, h };
    b.apply(&resize(90.0, 80.0, 300.0, 10.0)).unwrap();
    let a = b.get(&id("a")).unwrap();
    assert_eq!((a.x, a.y, a.w, a.h), (90.0, 80.0, 300.0, 10.0));
    // Moves keep the board's edge for its new size.
    assert!(b.apply(&Change::Move { id: id("a"), x: 1400.0, y: 0.0 }).is_err());
    b.apply(&Change::Move { id: id("a"), x: 1300.0, y: 990.0 }).unwrap();
    let refused = [
        (resize(0.0, 0.0, 9.9, 50.0), "bad_size"),
        (resize(0.0, 0.0, 50.0, 0.0), "bad_size"),
        (resize(0.0, 0.0, f64::NAN, 50.0), "bad_size"),
        (resize(0.0, 0.0, 1601.0, 50.0), "bad_size"),
        (resize(1.0, 0.0, 1600.0, 50.0), "out_of_bounds"),
        (resize(0.0, f64::INFINITY, 50.0, 50.0), "out_of_bounds"),
        (Change::Rotate { id: id("a"), rotation: 360.0 }, "bad_rotation"),
        (Change::Rotate { id: id("a"), rotation: -1.0 }, "bad_rotation"),
        (Change::Rotate { id: id("a"), rotation: 1e308 }, "bad_rotation"),
        (Change::Rotate { id: id("a"), rotation: f64::NAN }, "bad_rotation"),
        (Change::Rotate { id: id("gone"), rotation: 10.0 }, "unknown_shape"),
        (Change::Resize { id: id("gone"), x: 0.0, y: 0.0, w: 50.0, h: 50.0 }, "unknown_shape"),
    ];
    let before = b.clone();
    for (change, code) in refused {
        let e = b.apply(&change).unwrap_err();
        assert_eq!(crate::protocol::ErrorCode::for_change_error(&e).as_str(), code, "{change:?}: {e}");
        assert_eq!(b, before);
    }
    b.apply(&Change::Rotate { id: id("a"), rotation: 359.5 }).unwrap();
    assert_eq!(b.get(&id("a")).unwrap().rotation, 359.5);
    // A new shape of a size of its own, turned.
    let big = Shape { w: 1600.0, h: 1000.0, rotation: 45.0, ..Shape::new(id("big"), ShapeKind::Circle, 0.0, 0.0) };
    b.apply(&Change::Create { shape: big }).unwrap();
    let bad = Shape { w: 5.0, ..Shape::new(id("small"), ShapeKind::Circle, 0.0, 0.0) };
    assert!(matches!(b.apply(&Change::Create { shape: bad }), Err(ChangeError::BadSize { .. })));
}

#[test]
fn a_batch_sees_the_sizes_its_earlier_changes_gave() {
    let mut b = Board::new();
    b.apply(&create("a", ShapeKind::Rectangle, 0.0, 0.0)).unwrap();
    // Made smaller first, the shape then fits where its old size would not.
    let shrink_then_move = Change::Batch {
        changes: vec![
            Change::Resize { id: id("a"), x: 0.0, y: 0.0, w: 20.0, h: 20.0 },
            Change::Move { id: id("a"), x: 1580.0, y: 980.0 },
        ],
    };
    b.apply(&shrink_then_move).unwrap();
    let grow = Change::Batch {
        changes: vec![
            Change::Move { id: id("a"), x: 1000.0, y: 0.0 },
            Change::Resize { id: id("a"), x: 1000.0, y: 0.0, w: 500.0, h: 20.0 },
            Change::Move { id: id("a"), x: 1200.0, y: 0.0 },
        ],
    };
    let e = b.apply(&grow).unwrap_err();
    assert!(matches!(e, ChangeError::InBatch { index: 2, .. }), "{e}");
}

#[test]
fn text_is_written_erased_and_sized_within_the_rules() {
    use crate::model::{CharId, Run, TextSize};
    let mut b = Board::new();
    b.apply(&create("n", ShapeKind::Rectangle, 0.0, 0.0)).unwrap();
    let write = |after, at, text: &str| Change::Write { id: id("n"), after, at, text: text.to_owned() };
    b.apply(&write(None, CharId(5, 0), "Plan")).unwrap();
    b.apply(&Change::TextSize { id: id("n"), size: TextSize::Xl }).unwrap();
    let code = |b: &mut Board, c: &Change| {
        let before = b.clone();
        let e = b.apply(c).unwrap_err();
        assert_eq!(*b, before, "{c:?} changed the board");
        crate::protocol::ErrorCode::for_change_error(&e).as_str()
    };
    assert_eq!(code(&mut b, &write(Some(CharId(9, 9)), CharId(6, 0), "x")), "bad_text");
    assert_eq!(code(&mut b, &write(None, CharId(5, 2), "x")), "bad_text", "an id used already");
    assert_eq!(code(&mut b, &write(None, CharId(6, 0), &"x".repeat(4_997))), "text_too_long");
    assert_eq!(
        code(&mut b, &Change::Write { id: id("gone"), after: None, at: CharId(1, 0), text: "x".into() }),
        "unknown_shape"
    );
    assert_eq!(code(&mut b, &Change::Erase { id: id("n"), chars: vec![Run(5, 3, 2)] }), "bad_text");
    // A batch sees its own writes: write, then write after it, then erase the first.
    let batch = Change::Batch {
        changes: vec![
            write(Some(CharId(5, 3)), CharId(6, 0), "!"),
            write(Some(CharId(6, 0)), CharId(6, 1), "?"),
            Change::Erase { id: id("n"), chars: vec![Run(6, 0, 1)] },
        ],
    };
    b.apply(&batch).unwrap();
    let n = b.get(&id("n")).unwrap();
    assert_eq!((n.text.shown(), n.text_size), ("Plan?".to_owned(), TextSize::Xl));
    // It reads back from JSON with its ids and tombstones.
    let json = serde_json::to_value(n).unwrap();
    assert_eq!(json["text"], "Plan?");
    assert_eq!(json["chars"], serde_json::json!([[5, 0, 4, 0], [6, 0, 1, 1], [6, 1, 1, 0]]));
    assert_eq!(json["text_size"], "xl");
    let back: Shape = serde_json::from_value(json).unwrap();
    assert_eq!(&back, n);
}

#[test]
fn a_board_keeps_at_most_so_much_text() {
    use crate::model::{CharId, MAX_BOARD_TEXT, Text};
    let mut b = Board::new();
    let full = "x".repeat(5_000);
    for i in 0..MAX_BOARD_TEXT / 5_000 {
        let shape = Shape {
            text: Text::whole(&full).unwrap(),
            ..Shape::new(id(&format!("s{i}")), ShapeKind::Rectangle, 0.0, 0.0)
        };
        b.apply(&Change::Create { shape }).unwrap();
    }
    let one_more = Shape { text: Text::whole("y").unwrap(), ..Shape::new(id("more"), ShapeKind::Rectangle, 0.0, 0.0) };
    assert_eq!(b.apply(&Change::Create { shape: one_more }), Err(ChangeError::BoardTextFull));
    b.apply(&create("empty", ShapeKind::Rectangle, 0.0, 0.0)).unwrap();
    let w = Change::Write { id: id("empty"), after: None, at: CharId(1, 0), text: "z".into() };
    assert_eq!(b.apply(&w), Err(ChangeError::BoardTextFull));
    // Deleting a shape makes room again.
    b.apply(&Change::Delete { id: id("s0") }).unwrap();
    b.apply(&w).unwrap();
}
