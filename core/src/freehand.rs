//! A freehand stroke's geometry, the same in every tab and in the server's
//! pictures (issue "Draw freely, connect things"). Only a stroke's input
//! points are stored and sent; its outline (a closed polygon whose width
//! follows the pen's pressure, with round ends, in the manner of
//! perfect-freehand) is computed where it is drawn. What keeps a stroke small
//! is here too: points quantised to a tenth of a board unit, points that add
//! nothing dropped (`simplify`), and at most `MAX_POINTS` in one stroke (`cap`:
//! a longer gesture goes on as another stroke, from where this one ends).
//!
//! A first slice: the editor's Pen tool, the `stroke` kind and its drawing
//! build on it.

/// One input point: where, and the pen's pressure (0 to 1; 0.5 where the
/// pointer gives none and none is simulated).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PenPoint {
    pub x: f64,
    pub y: f64,
    pub pressure: f64,
}

impl PenPoint {
    pub fn new(x: f64, y: f64, pressure: f64) -> PenPoint {
        PenPoint { x, y, pressure }
    }
}

/// The most points one stroke keeps.
pub const MAX_POINTS: usize = 2000;

/// A stroke's width choices (board units: the width at middling pressure).
pub const THIN: f64 = 4.0;
pub const MEDIUM: f64 = 8.0;
pub const THICK: f64 = 16.0;

/// How a stroke's outline follows its points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pen {
    /// The width at middling pressure (board units).
    pub size: f64,
    /// How much pressure changes the width: 0 none, 1 from nothing to twice `size`.
    pub thinning: f64,
    /// How far each point is drawn toward the one before (0 to 1): steadies a shaky hand.
    pub streamline: f64,
    /// A pressure from the speed, for pointers that give none: faster is thinner.
    pub simulate_pressure: bool,
}

impl Pen {
    /// A pen of width `size`, as the Pen tool draws: some thinning and
    /// streamlining, pressure simulated unless the pointer gives it.
    pub fn of_size(size: f64, simulate_pressure: bool) -> Pen {
        Pen { size, thinning: 0.5, streamline: 0.5, simulate_pressure }
    }
}

/// `v` to a tenth of a board unit: plenty for a hand, and short on the wire.
pub fn quantise(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The outline of a stroke through `points`, as a closed polygon (its last
/// point joins its first). Empty for no points; a dot for one. Points that
/// are not finite are left out.
pub fn outline(points: &[PenPoint], pen: &Pen) -> Vec<(f64, f64)> {
    let steady = steadied(points, pen);
    let Some(first) = steady.first() else { return Vec::new() };
    let radius = |pressure: f64| radius(pen, pressure);
    if steady.len() == 1 {
        return arc((first.x, first.y), radius(first.pressure), 0.0, std::f64::consts::TAU, 16);
    }
    let (mut left, mut right) = (Vec::with_capacity(steady.len()), Vec::with_capacity(steady.len()));
    for (i, p) in steady.iter().enumerate() {
        // The direction here: from the point before to the point after.
        let before = steady[i.saturating_sub(1)];
        let after = steady[(i + 1).min(steady.len() - 1)];
        let (dx, dy) = unit(after.x - before.x, after.y - before.y);
        let r = radius(p.pressure);
        left.push((p.x - dy * r, p.y + dx * r));
        right.push((p.x + dy * r, p.y - dx * r));
    }
    let (start, end) = (steady[0], steady[steady.len() - 1]);
    let end_angle = angle_of(steady[steady.len() - 2], end);
    let start_angle = angle_of(steady[1], start);
    let half = std::f64::consts::FRAC_PI_2;
    let mut polygon = left;
    // Round ends: half circles from one side to the other, around the ends.
    polygon.extend(arc((end.x, end.y), radius(end.pressure), end_angle + half, end_angle - half, 8));
    polygon.extend(right.into_iter().rev());
    polygon.extend(arc((start.x, start.y), radius(start.pressure), start_angle + half, start_angle - half, 8));
    polygon
}

/// The points as the outline follows them: finite ones only, each drawn
/// toward the last by `streamline`, repeats dropped, and the pressure
/// simulated from the speed where asked.
fn steadied(points: &[PenPoint], pen: &Pen) -> Vec<PenPoint> {
    let mut out: Vec<PenPoint> = Vec::with_capacity(points.len());
    let keep = (1.0 - pen.streamline.clamp(0.0, 0.95)).max(0.05);
    for p in points.iter().filter(|p| p.x.is_finite() && p.y.is_finite()) {
        let pressure = if p.pressure.is_finite() { p.pressure.clamp(0.0, 1.0) } else { 0.5 };
        let Some(last) = out.last().copied() else {
            out.push(PenPoint::new(p.x, p.y, if pen.simulate_pressure { 0.5 } else { pressure }));
            continue;
        };
        let (x, y) = (last.x + (p.x - last.x) * keep, last.y + (p.y - last.y) * keep);
        let moved = (x - last.x).hypot(y - last.y);
        if moved < 1e-6 {
            continue;
        }
        let pressure = if pen.simulate_pressure {
            // Fast (a long step for the pen's size) is light, slow is heavy; eased so one step cannot jump.
            let speed = (moved / pen.size.max(1.0)).min(1.0);
            last.pressure + ((1.0 - speed) - last.pressure) * 0.3
        } else {
            pressure
        };
        out.push(PenPoint::new(x, y, pressure));
    }
    out
}

/// Half the width at `pressure`.
fn radius(pen: &Pen, pressure: f64) -> f64 {
    let thinning = pen.thinning.clamp(0.0, 1.0);
    (pen.size.max(0.1) * (0.5 - thinning * (0.5 - pressure))).max(0.25)
}

fn unit(dx: f64, dy: f64) -> (f64, f64) {
    let length = dx.hypot(dy);
    if length < 1e-12 { (1.0, 0.0) } else { (dx / length, dy / length) }
}

/// The direction from `a` to `b`, in radians.
fn angle_of(a: PenPoint, b: PenPoint) -> f64 {
    (b.y - a.y).atan2(b.x - a.x)
}

/// `steps` + 1 points on the circle about `centre` from angle `from` to `to`
/// (turning the shorter way for a half circle: clockwise, as the outline runs).
fn arc(centre: (f64, f64), r: f64, from: f64, to: f64, steps: usize) -> Vec<(f64, f64)> {
    let full = (to - from).abs() >= std::f64::consts::TAU - 1e-9;
    let sweep = if full { to - from } else { -(from - to).rem_euclid(std::f64::consts::TAU) };
    let count = if full { steps } else { steps + 1 };
    (0..count)
        .map(|i| {
            let a = from + sweep * i as f64 / steps as f64;
            (centre.0 + r * a.cos(), centre.1 + r * a.sin())
        })
        .collect()
}

/// The points without those that add nothing: each dropped point lies within
/// `tolerance` of the line the kept ones draw (Ramer–Douglas–Peucker), and
/// its pressure within a tenth of the line's there. The first and last stay.
pub fn simplify(points: &[PenPoint], tolerance: f64) -> Vec<PenPoint> {
    if points.len() <= 2 {
        return points.to_vec();
    }
    // How far point `i` is off the segment from `a` to `b`, past what may be
    // dropped: above 0, it must stay.
    let off = |i: usize, a: usize, b: usize| {
        let (p, pa, pb) = (points[i], points[a], points[b]);
        let (dx, dy) = (pb.x - pa.x, pb.y - pa.y);
        let length2 = dx * dx + dy * dy;
        let t = if length2 == 0.0 { 0.0 } else { (((p.x - pa.x) * dx + (p.y - pa.y) * dy) / length2).clamp(0.0, 1.0) };
        let distance = (p.x - (pa.x + t * dx)).hypot(p.y - (pa.y + t * dy));
        let pressure = pa.pressure + (pb.pressure - pa.pressure) * (i - a) as f64 / (b - a) as f64;
        (distance - tolerance).max((p.pressure - pressure).abs() - 0.1)
    };
    let mut keep = vec![false; points.len()];
    keep[0] = true;
    keep[points.len() - 1] = true;
    let mut spans = vec![(0, points.len() - 1)];
    while let Some((a, b)) = spans.pop() {
        let farthest = (a + 1..b).map(|i| (i, off(i, a, b))).max_by(|x, y| x.1.total_cmp(&y.1));
        if let Some((i, beyond)) = farthest
            && beyond > 0.0
        {
            keep[i] = true;
            spans.push((a, i));
            spans.push((i, b));
        }
    }
    points.iter().zip(keep).filter_map(|(p, k)| k.then_some(*p)).collect()
}

/// Splits a stroke longer than `MAX_POINTS`: `points` keeps the first
/// `MAX_POINTS`, and what is answered goes on from the last of them (so the
/// two strokes meet with no gap), for the next stroke.
pub fn cap(points: &mut Vec<PenPoint>) -> Option<Vec<PenPoint>> {
    if points.len() <= MAX_POINTS {
        return None;
    }
    let rest = points.split_off(MAX_POINTS);
    let joint = points[MAX_POINTS - 1];
    Some(std::iter::once(joint).chain(rest).collect())
}

#[cfg(test)]
#[path = "freehand_tests.rs"]
mod tests;
