use super::*;

fn line(n: usize, step: f64, pressure: f64) -> Vec<PenPoint> {
    (0..n).map(|i| PenPoint::new(i as f64 * step, 100.0, pressure)).collect()
}

fn real_pen(size: f64) -> Pen {
    Pen { streamline: 0.0, ..Pen::of_size(size, false) }
}

/// The distance from `p` to the segment `a`–`b`.
fn to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    (p.0 - (a.0 + t * dx)).hypot(p.1 - (a.1 + t * dy))
}

/// Twice the polygon's signed area (shoelace): its size, and which way it runs.
fn area(polygon: &[(f64, f64)]) -> f64 {
    let n = polygon.len();
    (0..n).map(|i| polygon[i].0 * polygon[(i + 1) % n].1 - polygon[(i + 1) % n].0 * polygon[i].1).sum::<f64>() / 2.0
}

#[test]
fn a_straight_stroke_is_a_band_of_its_width_with_round_ends() {
    let pen = real_pen(10.0);
    let polygon = outline(&line(21, 10.0, 0.5), &pen);
    // Every outline point is half the width from the stroke's line: along
    // it beside the middle, around its ends at the caps.
    for &p in &polygon {
        let d = to_segment(p, (0.0, 100.0), (200.0, 100.0));
        assert!((d - 5.0).abs() < 1e-6, "{p:?} is {d} from the line");
    }
    // A 200 × 10 band with two half-disc ends: about 2000 + π·25.
    let want = 200.0 * 10.0 + std::f64::consts::PI * 25.0;
    assert!((area(&polygon).abs() - want).abs() / want < 0.02, "area {} for {want}", area(&polygon).abs());
}

#[test]
fn pressure_makes_it_wider_and_lighter_makes_it_thinner() {
    let pen = real_pen(10.0);
    let heavy = area(&outline(&line(21, 10.0, 1.0), &pen)).abs();
    let light = area(&outline(&line(21, 10.0, 0.1), &pen)).abs();
    let middling = area(&outline(&line(21, 10.0, 0.5), &pen)).abs();
    assert!(heavy > middling * 1.3 && middling > light * 1.3, "{heavy} {middling} {light}");
    // Without thinning, pressure changes nothing.
    let even = Pen { thinning: 0.0, ..pen };
    let (a, b) = (area(&outline(&line(21, 10.0, 1.0), &even)), area(&outline(&line(21, 10.0, 0.1), &even)));
    assert!((a - b).abs() < 1e-6);
}

#[test]
fn a_simulated_pressure_thins_a_fast_stroke() {
    let pen = Pen { streamline: 0.0, ..Pen::of_size(10.0, true) };
    // The same 200 units, slowly (many short steps) and fast (few long ones).
    let slow = outline(&line(201, 1.0, 0.5), &pen);
    let fast = outline(&line(11, 20.0, 0.5), &pen);
    let width_at = |polygon: &[(f64, f64)]| {
        polygon.iter().filter(|p| (p.0 - 150.0).abs() < 20.0).map(|p| (p.1 - 100.0).abs()).fold(0.0, f64::max)
    };
    assert!(width_at(&slow) > width_at(&fast) * 1.3, "slow {} fast {}", width_at(&slow), width_at(&fast));
}

#[test]
fn a_dot_is_a_disc_and_nothing_is_nothing() {
    let pen = real_pen(8.0);
    let dot = outline(&[PenPoint::new(50.0, 60.0, 0.5)], &pen);
    assert_eq!(dot.len(), 16);
    assert!(dot.iter().all(|p| ((p.0 - 50.0).hypot(p.1 - 60.0) - 4.0).abs() < 1e-9));
    assert!(outline(&[], &pen).is_empty());
    // Points that are not numbers are left out, never drawn as NaN.
    let odd = [PenPoint::new(f64::NAN, 0.0, 0.5), PenPoint::new(1.0, 1.0, f64::NAN), PenPoint::new(9.0, 1.0, 0.5)];
    let polygon = outline(&odd, &pen);
    assert!(!polygon.is_empty() && polygon.iter().all(|p| p.0.is_finite() && p.1.is_finite()));
}

#[test]
fn streamlining_steadies_a_shaky_line() {
    let shaky: Vec<PenPoint> =
        (0..60).map(|i| PenPoint::new(i as f64 * 4.0, 100.0 + if i % 2 == 0 { 3.0 } else { -3.0 }, 0.5)).collect();
    let spread = |pen: &Pen| steadied(&shaky, pen).iter().skip(5).map(|p| (p.y - 100.0).abs()).fold(0.0, f64::max);
    let raw = spread(&real_pen(8.0));
    let steady = spread(&Pen { streamline: 0.5, ..real_pen(8.0) });
    assert!(raw > 2.9 && steady < raw * 0.6, "raw {raw}, streamlined {steady}");
}

#[test]
fn simplifying_drops_what_adds_nothing_and_keeps_corners() {
    // An L: 50 points along x, then 50 along y.
    let mut points = line(50, 2.0, 0.5);
    points.extend((1..50).map(|i| PenPoint::new(98.0, 100.0 + i as f64 * 2.0, 0.5)));
    let simple = simplify(&points, 0.5);
    let at: Vec<(f64, f64)> = simple.iter().map(|p| (p.x, p.y)).collect();
    assert_eq!(at, vec![(0.0, 100.0), (98.0, 100.0), (98.0, 198.0)]);
    // A gentle curve keeps enough points that none dropped is further than the tolerance.
    let curve: Vec<PenPoint> =
        (0..200).map(|i| PenPoint::new(i as f64, 100.0 + (i as f64 / 30.0).sin() * 40.0, 0.5)).collect();
    let simple = simplify(&curve, 0.5);
    assert!(simple.len() < 60 && simple.len() > 5, "{} points kept", simple.len());
    for p in &curve {
        let d = simple.windows(2).map(|w| to_segment((p.x, p.y), (w[0].x, w[0].y), (w[1].x, w[1].y)));
        assert!(d.fold(f64::INFINITY, f64::min) <= 0.5 + 1e-9);
    }
    // A change of pressure is a corner too.
    let mut pressed = line(20, 5.0, 0.2);
    pressed[10].pressure = 0.9;
    assert!(simplify(&pressed, 0.5).iter().any(|p| p.pressure == 0.9));
}

#[test]
fn a_long_gesture_goes_on_as_another_stroke_from_where_the_first_ends() {
    let mut points = line(2500, 0.5, 0.5);
    let rest = cap(&mut points).unwrap();
    assert_eq!(points.len(), MAX_POINTS);
    assert_eq!(rest.len(), 501);
    assert_eq!(rest[0], points[MAX_POINTS - 1], "no gap between the two");
    let mut short = line(10, 1.0, 0.5);
    assert!(cap(&mut short).is_none());
    assert_eq!(short.len(), 10);
}

#[test]
fn points_are_kept_to_a_tenth_of_a_unit() {
    assert_eq!(quantise(12.34), 12.3);
    assert_eq!(quantise(-0.06), -0.1);
    assert_eq!(quantise(7.0), 7.0);
}
