//! A board as PNG, rasterised here with tiny-skia: the same outlines as the
//! SVG (`picture`), for link previews (Open Graph) and, at `?scale=2`, for
//! Export PNG, with the shapes' text (`glyphs`). Only what can be seen is
//! painted (`occlusion`).

use tiny_skia::{Color as SkColor, FillRule, Paint, PathBuilder, Pixmap, Rect, Stroke, Transform};

use super::glyphs;
use sketchboard_core::lettering::ink;
use sketchboard_core::model::{BOARD_HEIGHT, BOARD_WIDTH, Board, Shape};
use sketchboard_core::occlusion::visible;
use sketchboard_core::picture::{BACKGROUND, GRID, OUTLINE_WIDTH, Outline, grid_lines};

/// The PNG's size: 1200 × 750, what link previews show well (`?scale=2`: 3200 × 2000, for export).
pub(super) const PNG_SCALE: f32 = 0.75;

fn hex(color: &str) -> SkColor {
    let channel = |i: usize| color.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0);
    SkColor::from_rgba8(channel(1), channel(3), channel(5), 255)
}

fn paint(color: &str) -> Paint<'static> {
    let mut paint = Paint::default();
    paint.set_color(hex(color));
    paint.anti_alias = true;
    paint
}

/// The board as PNG bytes, `scale` device pixels per board unit. Only the
/// shapes that can be seen are painted (`occlusion`): the same picture, in a
/// fraction of the time on a crowded board.
pub(super) fn png(board: &Board, scale: f32) -> Option<Vec<u8>> {
    let shown = visible(board.shapes(), 1.0 / f64::from(scale));
    draw(shown.into_iter(), scale)?.encode_png().ok()
}

/// `shapes`, bottom first, on the sheet and its grid.
fn draw<'a>(shapes: impl Iterator<Item = &'a Shape>, scale: f32) -> Option<Pixmap> {
    let (w, h) = ((BOARD_WIDTH as f32 * scale).round() as u32, (BOARD_HEIGHT as f32 * scale).round() as u32);
    let mut pixmap = Pixmap::new(w, h)?;
    pixmap.fill(hex(BACKGROUND));
    let at = Transform::from_scale(scale, scale);
    let mut grid = PathBuilder::new();
    for [(x0, y0), (x1, y1)] in grid_lines() {
        grid.move_to(x0 as f32, y0 as f32);
        grid.line_to(x1 as f32, y1 as f32);
    }
    let thin = Stroke { width: 1.0, ..Stroke::default() };
    pixmap.stroke_path(&grid.finish()?, &paint(GRID), &thin, at, None);
    let outline = Stroke { width: OUTLINE_WIDTH as f32, ..Stroke::default() };
    for shape in shapes {
        if !shape.kind.has_body() {
            glyphs::draw_text(&mut pixmap, shape, at, &paint(ink(shape)));
            continue;
        }
        let path = match Outline::of(shape) {
            Outline::Rect { x, y, w, h } => {
                PathBuilder::from_rect(Rect::from_xywh(x as f32, y as f32, w as f32, h as f32)?)
            }
            Outline::Triangle([a, b, c]) => {
                let mut p = PathBuilder::new();
                p.move_to(a.0 as f32, a.1 as f32);
                p.line_to(b.0 as f32, b.1 as f32);
                p.line_to(c.0 as f32, c.1 as f32);
                p.close();
                p.finish()?
            }
            Outline::Ellipse { cx, cy, rx, ry } => {
                let oval = Rect::from_ltrb((cx - rx) as f32, (cy - ry) as f32, (cx + rx) as f32, (cy + ry) as f32)?;
                PathBuilder::from_oval(oval)?
            }
        };
        let (fill, stroke) = shape.fill().paint();
        let (cx, cy) = shape.centre();
        let turned = at.pre_concat(Transform::from_rotate_at(shape.rotation as f32, cx as f32, cy as f32));
        pixmap.fill_path(&path, &paint(fill), FillRule::Winding, turned, None);
        pixmap.stroke_path(&path, &paint(stroke), &outline, turned, None);
        glyphs::draw_text(&mut pixmap, shape, at, &paint(ink(shape)));
    }
    Some(pixmap)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A board as crowded as people make them: `n` shapes of every kind and
    /// colour, anywhere on the sheet, some on exactly the same spot, some
    /// resized and some turned.
    fn crowded(n: usize, seed: u64) -> Board {
        use rand::{Rng, SeedableRng, rngs::StdRng};
        use sketchboard_core::model::{Change, Color, ShapeId, ShapeKind, clamp_to_board};
        let mut rng = StdRng::seed_from_u64(seed);
        let mut board = Board::new();
        let kinds = [ShapeKind::Rectangle, ShapeKind::Circle, ShapeKind::Triangle];
        for i in 0..n {
            let kind = kinds[rng.random_range(0..3)];
            let (x, y) = if i % 50 == 49 {
                (400.0, 300.0)
            } else {
                (rng.random_range(-50.0..BOARD_WIDTH), rng.random_range(-50.0..BOARD_HEIGHT))
            };
            let (w, h) = match i % 7 {
                0 => (rng.random_range(10.0..400.0), rng.random_range(10.0..300.0)),
                _ => kind.size(),
            };
            let rotation = if i % 5 == 0 { rng.random_range(0.0..360.0) } else { 0.0 };
            let (x, y) = clamp_to_board((w, h), x, y);
            let Ok(id) = ShapeId::parse(format!("s{i}")) else { continue };
            let shape = Shape { w, h, rotation, ..Shape::new(id.clone(), kind, x, y) };
            let color = Color::ALL[rng.random_range(0..Color::ALL.len())];
            let done = board.apply(&Change::Create { shape }).and_then(|_| board.apply(&Change::Color { id, color }));
            assert!(done.is_ok());
        }
        board
    }

    #[test]
    fn painting_only_what_can_be_seen_paints_the_same_pixels() {
        for (n, seed) in [(40, 1), (400, 2), (3_000, 3)] {
            let board = crowded(n, seed);
            for scale in [0.25, 0.5, 0.75, 1.0, 1.5, 2.0] {
                let shown = visible(board.shapes(), 1.0 / f64::from(scale));
                let all = draw(board.shapes(), scale).map(|p| p.take());
                let some = draw(shown.iter().copied(), scale).map(|p| p.take());
                assert!(all.is_some());
                assert!(all == some, "{n} shapes at {scale}: {} painted of {n}, and the pixels differ", shown.len());
            }
        }
    }

    #[test]
    fn most_of_a_full_board_is_hidden() {
        let board = crowded(sketchboard_core::model::MAX_SHAPES, 4);
        let shown = visible(board.shapes(), 1.0 / f64::from(PNG_SCALE));
        assert!(shown.len() < board.len() * 2 / 5, "{} of {} painted", shown.len(), board.len());
    }
}
