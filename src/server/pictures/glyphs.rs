//! Text in the server's PNG: the shapes' text laid out as everywhere else
//! (`sketchboard_core::lettering`), measured and drawn with the font the
//! project ships (`assets/fonts/DejaVuSans.ttf`, built into the binary: no
//! system font is assumed). Each line's glyph outlines become one tiny-skia
//! path, so the text turns with its shape like the outline does. Lines whose
//! middle falls outside the shape's box are left out (the canvas cuts them
//! off at the box), except in a text box, whose text is never cut off.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, OutlineCurve};
use tiny_skia::{FillRule, Paint, PathBuilder, Pixmap, Transform};

use sketchboard_core::lettering::{LINE_HEIGHT, first_line_offset, line_width, wrap};
use sketchboard_core::model::Shape;

static FONT_FILE: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// The font, read once; `None` if it cannot be (then pictures have no text,
/// and say so in the log once).
fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| match FontRef::try_from_slice(FONT_FILE) {
        Ok(font) => Some(font),
        Err(e) => {
            tracing::error!(error = %e, "the shipped font cannot be read: pictures are drawn without text");
            None
        }
    })
    .as_ref()
}

/// Board units per font unit at text size `size` (CSS sizes are em sizes).
fn units(font: &FontRef<'_>, size: f64) -> f64 {
    size / f64::from(font.units_per_em().unwrap_or(2048.0))
}

/// `line`'s glyphs, each with where it starts along the line, and where the
/// line ends, in font units: the glyphs' advances with kerning.
fn placed(font: &FontRef<'_>, line: &str) -> (Vec<(ab_glyph::GlyphId, f32)>, f32) {
    let mut glyphs = Vec::with_capacity(line.len());
    let mut pen = 0.0_f32;
    let mut last = None;
    for ch in line.chars() {
        let id = font.glyph_id(ch);
        if let Some(prev) = last {
            pen += font.kern_unscaled(prev, id);
        }
        glyphs.push((id, pen));
        pen += font.h_advance_unscaled(id);
        last = Some(id);
    }
    (glyphs, pen)
}

/// How wide `line` is at `size`, in board units.
pub(super) fn measure(font: &FontRef<'_>, line: &str, size: f64) -> f64 {
    f64::from(placed(font, line).1) * units(font, size)
}

/// Draws `shape`'s text into `pixmap` through `at` (board units to
/// pixels) with `ink`.
pub(super) fn draw_text(pixmap: &mut Pixmap, shape: &Shape, at: Transform, ink: &Paint<'_>) {
    let Some(font) = font().filter(|_| !shape.text.is_empty()) else { return };
    let size = shape.text_size.units();
    let lines = wrap(&shape.text.shown(), line_width(shape), |line| measure(font, line, size));
    let (cx, cy) = shape.centre();
    let turned = at.pre_concat(Transform::from_rotate_at(shape.rotation as f32, cx as f32, cy as f32));
    let k = units(font, size);
    // A line's middle sits halfway between its ascent and descent.
    let middle = f64::from(font.ascent_unscaled() + font.descent_unscaled()) / 2.0 * k;
    let first = cy + first_line_offset(lines.len(), size);
    for (i, line) in lines.iter().enumerate() {
        let mid = first + i as f64 * size * LINE_HEIGHT;
        if shape.kind.has_body() && !(shape.y..=shape.y + shape.h).contains(&mid) {
            continue;
        }
        let left = cx - measure(font, line, size) / 2.0;
        if let Some(path) = line_path(font, line, left, mid + middle, k) {
            pixmap.fill_path(&path, ink, FillRule::Winding, turned, None);
        }
    }
}

/// The outlines of `line`'s glyphs as one path in board units, starting at
/// `left` on the baseline `baseline`, `k` board units per font unit.
fn line_path(font: &FontRef<'_>, line: &str, left: f64, baseline: f64, k: f64) -> Option<tiny_skia::Path> {
    let mut path = PathBuilder::new();
    for (id, pen) in placed(font, line).0 {
        let Some(outline) = font.outline(id) else { continue };
        // Font units, y up, to board units, y down.
        let p = |pt: ab_glyph::Point| {
            (((f64::from(pen + pt.x)) * k + left) as f32, (baseline - f64::from(pt.y) * k) as f32)
        };
        let mut at = None;
        for curve in &outline.curves {
            let start = match curve {
                OutlineCurve::Line(a, _) | OutlineCurve::Quad(a, _, _) | OutlineCurve::Cubic(a, _, _, _) => p(*a),
            };
            if at != Some(start) {
                path.move_to(start.0, start.1);
            }
            let end = match curve {
                OutlineCurve::Line(_, b) => {
                    let b = p(*b);
                    path.line_to(b.0, b.1);
                    b
                }
                OutlineCurve::Quad(_, c, b) => {
                    let (c, b) = (p(*c), p(*b));
                    path.quad_to(c.0, c.1, b.0, b.1);
                    b
                }
                OutlineCurve::Cubic(_, c1, c2, b) => {
                    let (c1, c2, b) = (p(*c1), p(*c2), p(*b));
                    path.cubic_to(c1.0, c1.1, c2.0, c2.1, b.0, b.1);
                    b
                }
            };
            at = Some(end);
        }
    }
    path.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_font_reads_and_measures() {
        let font = font().expect("the shipped font");
        let (one, two) = (measure(font, "m", 24.0), measure(font, "mm", 24.0));
        assert!(one > 10.0 && one < 24.0, "an m is about 0.97 em in DejaVu Sans: {one}");
        assert!((two - 2.0 * one).abs() < 0.5);
        assert!(measure(font, "i", 24.0) < one, "proportional");
        assert!(line_path(font, "Hi", 0.0, 20.0, units(font, 24.0)).is_some());
        assert!(line_path(font, " ", 0.0, 20.0, units(font, 24.0)).is_none(), "a space draws nothing");
    }
}
