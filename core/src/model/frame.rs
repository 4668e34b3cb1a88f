//! Where a turned shape lies. A shape's frame is its box of `w` × `h` with its
//! top-left corner at (`x`, `y`), turned `rotation` degrees clockwise about
//! its centre (the board's y axis points down, so a positive angle turns the
//! way a clock's hands do, as the canvas's `rotate` and SVG's `rotate()` do).
//! Hit-testing, selection rectangles, culling and the pictures ask here.

/// Turns the point `p` by `degrees` clockwise about `centre`.
pub fn turn(p: (f64, f64), centre: (f64, f64), degrees: f64) -> (f64, f64) {
    if degrees == 0.0 {
        return p;
    }
    let (sin, cos) = sin_cos_degrees(degrees);
    let (dx, dy) = (p.0 - centre.0, p.1 - centre.1);
    (centre.0 + dx * cos - dy * sin, centre.1 + dx * sin + dy * cos)
}

/// The sine and cosine of an angle in degrees. Reduced in degrees, to within
/// 45° of a multiple of 90°, so that quarter turns are exact (cos 90° is 0,
/// not 6e-17) and the browser's bundle needs none of the general library's
/// argument reduction; the polynomials are the Taylor series, to within an
/// ulp or two of `f64::sin_cos` on [-45°, 45°].
pub fn sin_cos_degrees(degrees: f64) -> (f64, f64) {
    if !degrees.is_finite() {
        return (f64::NAN, f64::NAN);
    }
    let turns = (degrees / 90.0).round();
    let x = (degrees - turns * 90.0) * (std::f64::consts::PI / 180.0);
    let x2 = x * x;
    // x - x³/3! + … - x¹⁷/17!, and 1 - x²/2! + … + x¹⁶/16!: the next terms are below 1e-18 for |x| ≤ π/4.
    let mut sin = 0.0;
    let mut cos = 0.0;
    for k in (0..9).rev() {
        let (s, c) = (SIN_TERMS[k], COS_TERMS[k]);
        sin = sin * x2 + s;
        cos = cos * x2 + c;
    }
    let sin = sin * x;
    match (turns as i64).rem_euclid(4) {
        0 => (sin, cos),
        1 => (cos, -sin),
        2 => (-sin, -cos),
        _ => (-cos, sin),
    }
}

/// (-1)^k / (2k + 1)! and (-1)^k / (2k)!.
const SIN_TERMS: [f64; 9] = [
    1.0,
    -1.0 / 6.0,
    1.0 / 120.0,
    -1.0 / 5040.0,
    1.0 / 362_880.0,
    -1.0 / 39_916_800.0,
    1.0 / 6_227_020_800.0,
    -1.0 / 1_307_674_368_000.0,
    1.0 / 355_687_428_096_000.0,
];
const COS_TERMS: [f64; 9] = [
    1.0,
    -1.0 / 2.0,
    1.0 / 24.0,
    -1.0 / 720.0,
    1.0 / 40_320.0,
    -1.0 / 3_628_800.0,
    1.0 / 479_001_600.0,
    -1.0 / 87_178_291_200.0,
    1.0 / 20_922_789_888_000.0,
];

/// An angle in degrees as a rotation: in [0, 360), and 0 rather than -0 or a
/// rounding error's 359.9999999.
pub fn normalize_degrees(degrees: f64) -> f64 {
    // Not `rem_euclid`, which brings the library's `fmod` to the browser.
    let r = degrees - 360.0 * (degrees / 360.0).floor();
    // Steps of 15° added up drift by a few ulps; keep whole degrees whole.
    let whole = r.round();
    let r = if (r - whole).abs() < 1e-9 { whole } else { r };
    if r >= 360.0 || r == 0.0 { 0.0 } else { r }
}

/// The four corners of a box (`x`, `y`, `w`, `h`) turned `degrees` about its
/// centre: top-left, top-right, bottom-right, bottom-left before turning.
pub fn corners(x: f64, y: f64, w: f64, h: f64, degrees: f64) -> [(f64, f64); 4] {
    let c = (x + w / 2.0, y + h / 2.0);
    [(x, y), (x + w, y), (x + w, y + h), (x, y + h)].map(|p| turn(p, c, degrees))
}

/// The smallest upright rectangle [x0, y0, x1, y1] holding `points`.
pub fn bounds_of(points: &[(f64, f64)]) -> [f64; 4] {
    let mut b = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for &(x, y) in points {
        b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
    }
    b
}

/// Whether the convex quadrilateral `quad` and the upright rectangle
/// [x0, y0, x1, y1] share a point: separated along no axis of either
/// (the separating axis theorem; touching counts as meeting).
pub fn quad_meets_rect(quad: &[(f64, f64); 4], rect: [f64; 4]) -> bool {
    let [x0, y0, x1, y1] = rect;
    let b = bounds_of(quad);
    if b[0] > x1 || b[2] < x0 || b[1] > y1 || b[3] < y0 {
        return false;
    }
    let rect_corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)];
    // The quad's own two edge directions (opposite edges are parallel).
    for edge in [(quad[0], quad[1]), (quad[1], quad[2])] {
        let axis = (edge.1.0 - edge.0.0, edge.1.1 - edge.0.1);
        let along = |p: &(f64, f64)| p.0 * axis.0 + p.1 * axis.1;
        let (qa, qb) = span(quad.iter().map(along));
        let (ra, rb) = span(rect_corners.iter().map(along));
        if qa > rb || qb < ra {
            return false;
        }
    }
    true
}

fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9
    }

    #[test]
    fn a_quarter_turn_is_clockwise_on_a_board_whose_y_points_down() {
        // Right of the centre goes below it.
        assert!(close(turn((10.0, 0.0), (0.0, 0.0), 90.0), (0.0, 10.0)));
        assert!(close(turn((0.0, 10.0), (0.0, 0.0), 90.0), (-10.0, 0.0)));
        assert_eq!(turn((3.0, 4.0), (1.0, 1.0), 0.0), (3.0, 4.0));
    }

    #[test]
    fn sines_and_cosines_in_degrees_match_the_library_and_quarter_turns_are_exact() {
        for tenth in -7_200..=7_200 {
            let d = f64::from(tenth) / 10.0;
            let (s, c) = sin_cos_degrees(d);
            // The library turns the whole angle to radians first, so far from 0 it is the less exact.
            let (ls, lc) = d.to_radians().sin_cos();
            assert!((s - ls).abs() < 1e-14 && (c - lc).abs() < 1e-14, "{d}°: ({s}, {c}) against ({ls}, {lc})");
        }
        assert_eq!(sin_cos_degrees(90.0), (1.0, 0.0));
        assert_eq!(sin_cos_degrees(180.0), (0.0, -1.0));
        assert_eq!(sin_cos_degrees(-90.0), (-1.0, 0.0));
        assert!(sin_cos_degrees(f64::INFINITY).0.is_nan());
    }

    #[test]
    fn angles_come_back_into_one_turn() {
        assert_eq!(normalize_degrees(-15.0), 345.0);
        assert_eq!(normalize_degrees(360.0), 0.0);
        assert_eq!(normalize_degrees(-0.0), 0.0);
        assert_eq!(normalize_degrees(725.0), 5.0);
        let drifted = (0..24).fold(0.0, |r, _| r + 15.0_f64.to_radians().to_degrees());
        assert_eq!(normalize_degrees(drifted), 0.0);
    }

    #[test]
    fn a_turned_box_meets_only_what_its_corners_reach() {
        // A 100 × 100 box at the origin turned 45°: a diamond reaching from
        // about -20.7 to 120.7 each way, its corners at the middles of the sides.
        let q = corners(0.0, 0.0, 100.0, 100.0, 45.0);
        assert!(quad_meets_rect(&q, [40.0, 40.0, 60.0, 60.0]), "its middle");
        assert!(quad_meets_rect(&q, [-30.0, 45.0, -15.0, 55.0]), "its left point");
        // Inside the upright bounds, but off the diamond's corner.
        assert!(!quad_meets_rect(&q, [-20.0, -20.0, 0.0, 0.0]), "beside its top-left edge");
        assert!(!quad_meets_rect(&q, [200.0, 0.0, 300.0, 100.0]), "far right");
    }
}
