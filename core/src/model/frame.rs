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
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (dx, dy) = (p.0 - centre.0, p.1 - centre.1);
    (centre.0 + dx * cos - dy * sin, centre.1 + dx * sin + dy * cos)
}

/// An angle in degrees as a rotation: in [0, 360), and 0 rather than -0 or a
/// rounding error's 359.9999999.
pub fn normalize_degrees(degrees: f64) -> f64 {
    let r = degrees.rem_euclid(360.0);
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
