#![allow(clippy::unwrap_used)]

use super::*;
use crate::model::Change;

fn ids() -> impl FnMut() -> ShapeId {
    let mut n = 0;
    move || {
        n += 1;
        ShapeId::parse(format!("new{n}")).unwrap()
    }
}

fn sample() -> Board {
    let mut board = Board::new();
    for (id, kind, x, z) in [
        ("a", ShapeKind::Rectangle, 10.0, 0),
        ("b", ShapeKind::Circle, 300.0, 2),
        ("c", ShapeKind::Triangle, 600.0, -1),
    ] {
        let shape = Shape { z, ..Shape::new(ShapeId::parse(id).unwrap(), kind, x, 20.0) };
        board.apply(&Change::Create { shape }).unwrap();
    }
    board.apply(&Change::Color { id: ShapeId::parse("b").unwrap(), color: Color::Pink }).unwrap();
    let c = ShapeId::parse("c").unwrap();
    board.apply(&Change::Resize { id: c.clone(), x: 600.0, y: 20.0, w: 300.5, h: 40.0 }).unwrap();
    board.apply(&Change::Rotate { id: c, rotation: 22.5 }).unwrap();
    board
}

/// What a board shows, in drawing order, ids aside.
fn looks(board: &Board) -> Vec<(ShapeKind, [f64; 4], f64, Color, i64)> {
    board.shapes().map(|s| (s.kind, s.frame(), s.rotation, s.fill(), s.z)).collect()
}

fn onto(board: &Board, shapes: Vec<Shape>) -> Board {
    let mut board = board.clone();
    for shape in shapes {
        board.apply(&Change::Create { shape }).unwrap();
    }
    board
}

#[test]
fn an_export_imports_into_an_empty_board_as_the_same_board() {
    let text = write(&sample());
    assert!(text.contains("\"format\": \"sketchboard\"") && text.contains("\"version\": 2"), "{text}");
    assert!(text.contains("\"w\": 300.5") && text.contains("\"rotation\": 22.5"), "{text}");
    let shapes = read(&text, &Board::new(), ids()).unwrap();
    assert!(shapes.iter().all(|s| s.id.as_str().starts_with("new")), "new ids");
    assert_eq!(looks(&onto(&Board::new(), shapes)), looks(&sample()));
}

#[test]
fn imported_shapes_go_on_top_keeping_their_order_and_onto_the_board() {
    let text = r#"{"format":"sketchboard","version":1,"shapes":[
        {"kind":"circle","x":-50,"y":99999,"z":5},
        {"kind":"rectangle","x":10,"y":10,"z":4}]}"#;
    let board = sample(); // top layer 2
    let shapes = read(text, &board, ids()).unwrap();
    assert_eq!((shapes[0].x, shapes[0].y), (0.0, 880.0), "clamped onto the board");
    assert_eq!((shapes[0].z, shapes[1].z), (4, 3), "lifted above layer 2, order kept");
}

#[test]
fn bad_files_are_refused_whole_with_a_reason() {
    let board = sample();
    let refused = |text: &str| read(text, &board, ids()).unwrap_err();
    assert!(matches!(refused("not json"), FormatError::Unreadable(_)));
    assert_eq!(
        refused(r#"{"format":"excalidraw","version":2,"elements":[]}"#),
        FormatError::NotOurs("excalidraw".into())
    );
    assert_eq!(refused(r#"{"format":"sketchboard","version":9,"shapes":[]}"#), FormatError::TooNew(9));
    assert_eq!(refused(r#"{"format":"sketchboard","version":1,"shapes":[]}"#), FormatError::Empty);
    let hexagon = refused(r#"{"format":"sketchboard","version":1,"shapes":[{"kind":"hexagon","x":1,"y":1}]}"#);
    assert!(hexagon.to_string().contains("hexagon"), "{hexagon}");
    let extra =
        refused(r#"{"format":"sketchboard","version":1,"shapes":[{"kind":"circle","x":1,"y":1,"script":"x"}]}"#);
    assert!(extra.to_string().contains("script"), "{extra}");
    assert_eq!(
        refused(r#"{"format":"sketchboard","version":1,"shapes":[{"kind":"circle","x":1,"y":1,"z":99999999999999}]}"#),
        FormatError::BadLayer(1, 99_999_999_999_999)
    );
    assert_eq!(refused(&" ".repeat(MAX_FILE_BYTES + 1)), FormatError::TooBig(MAX_FILE_BYTES + 1));
    let many = format!(
        r#"{{"format":"sketchboard","version":1,"shapes":[{}]}}"#,
        vec![r#"{"kind":"circle","x":1,"y":1}"#; MAX_SHAPES - 2].join(",")
    );
    assert_eq!(refused(&many), FormatError::TooMany { file: MAX_SHAPES - 2, board: 3 });
}

#[test]
fn a_version_1_file_reads_with_each_kinds_size_upright() {
    let text = r#"{"format":"sketchboard","version":1,"shapes":[
        {"kind":"triangle","x":5,"y":6},{"kind":"circle","x":1,"y":2,"color":"red"}]}"#;
    let shapes = read(text, &Board::new(), ids()).unwrap();
    let sizes: Vec<_> = shapes.iter().map(|s| (s.w, s.h, s.rotation)).collect();
    assert_eq!(sizes, [(140.0, 120.0, 0.0), (120.0, 120.0, 0.0)]);
}

#[test]
fn a_size_or_rotation_out_of_range_refuses_the_file() {
    let file = |shape: &str| format!(r#"{{"format":"sketchboard","version":2,"shapes":[{shape}]}}"#);
    let refused = |shape: &str| read(&file(shape), &Board::new(), ids()).unwrap_err();
    assert_eq!(refused(r#"{"kind":"circle","x":1,"y":1,"w":0,"h":50}"#), FormatError::BadSize(1));
    assert_eq!(refused(r#"{"kind":"circle","x":1,"y":1,"h":5000}"#), FormatError::BadSize(1));
    assert_eq!(refused(r#"{"kind":"circle","x":1,"y":1,"rotation":1e308}"#), FormatError::BadRotation(1));
    assert_eq!(refused(r#"{"kind":"circle","x":1,"y":1,"rotation":-5}"#), FormatError::BadRotation(1));
    // A big shape partly off the board is clamped on at its size.
    let shapes = read(&file(r#"{"kind":"rectangle","x":1500,"y":0,"w":400,"h":30}"#), &Board::new(), ids()).unwrap();
    assert_eq!(shapes[0].frame(), [1200.0, 0.0, 400.0, 30.0]);
}
