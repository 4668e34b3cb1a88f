//! The shape's own tests: hit-testing (turned and resized too), meeting a rectangle, shapes read from before sizes.

use super::*;

fn at(kind: ShapeKind) -> Shape {
    Shape::new(ShapeId::parse("s").unwrap(), kind, 100.0, 100.0)
}

#[test]
fn rectangle_hits_its_whole_box() {
    let s = at(ShapeKind::Rectangle);
    assert!(s.contains(100.0, 100.0));
    assert!(s.contains(260.0, 200.0));
    assert!(!s.contains(261.0, 150.0));
    assert!(!s.contains(99.0, 150.0));
}

#[test]
fn circle_misses_its_corners() {
    let s = at(ShapeKind::Circle);
    assert!(s.contains(160.0, 160.0));
    assert!(!s.contains(102.0, 102.0));
    assert!(s.contains(100.5, 160.0));
}

#[test]
fn a_rectangle_meets_what_it_touches() {
    let s = at(ShapeKind::Circle); // box 100..220 × 100..220
    assert!(s.meets([0.0, 0.0, 100.0, 100.0]), "a corner touching");
    assert!(s.meets([150.0, 150.0, 160.0, 160.0]), "inside");
    assert!(!s.meets([0.0, 0.0, 99.0, 500.0]), "left of it");
}

#[test]
fn a_resized_turned_shape_is_hit_where_it_is_drawn() {
    // A 200 × 40 bar centred on (200, 120), turned upright: 40 wide, 200 tall.
    let s = Shape { w: 200.0, h: 40.0, rotation: 90.0, ..at(ShapeKind::Rectangle) };
    assert!(s.contains(200.0, 30.0), "near its top, once turned");
    assert!(!s.contains(110.0, 120.0), "where its left end was before turning");
    assert_eq!(s.bounds().map(|v| v.round()), [180.0, 20.0, 220.0, 220.0]);
    assert!(s.meets([215.0, 200.0, 300.0, 300.0]));
    assert!(!s.meets([100.0, 100.0, 170.0, 140.0]), "its unturned left end");
}

#[test]
fn a_shape_from_before_sizes_reads_with_its_kinds_size() {
    let s: Shape = serde_json::from_str(r#"{"id":"s","kind":"triangle","x":1,"y":2}"#).unwrap();
    assert_eq!((s.w, s.h, s.rotation), (140.0, 120.0, 0.0));
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(json, r#"{"id":"s","kind":"triangle","x":1.0,"y":2.0,"w":140.0,"h":120.0}"#);
    let turned = Shape { rotation: 30.0, ..s };
    let back: Shape = serde_json::from_str(&serde_json::to_string(&turned).unwrap()).unwrap();
    assert_eq!(back, turned);
    assert!(serde_json::from_str::<Shape>(r#"{"id":"s","kind":"circle","x":1,"y":2,"d":3}"#).is_err());
}

#[test]
fn triangle_is_narrow_at_the_top() {
    let s = at(ShapeKind::Triangle);
    assert!(s.contains(170.0, 101.0), "apex");
    assert!(!s.contains(110.0, 110.0), "beside the apex");
    assert!(s.contains(101.0, 219.0), "bottom-left corner");
}
