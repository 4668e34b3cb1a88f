//! The text on a shape, laid out the same way wherever a board is drawn: in
//! the shape's box less a margin, centred, wrapped at spaces (inside a word
//! when one word is wider than the box), a new line at each line break, in
//! one ink on every fill. The canvas measures lines with the browser's font;
//! the server's pictures, which have no font to measure with, estimate.
//!
//! A text box (`ShapeKind::Text`) is only its text: drawn in its colour's
//! ink, never cut off at its box, and sized to fit its text as it is written
//! (`fitted`, with room for the caret). Its lines break only where its writer
//! broke them: every screen and picture measures with its own font, and a
//! line that fitted the writer's must not wrap on a screen whose font is a
//! little wider. (A box resized by hand keeps its lines; typing in it fits it
//! to them again.)

use crate::model::{BOARD_HEIGHT, BOARD_WIDTH, MIN_SIDE, Shape, ShapeKind, TextSize};

/// The colour of text, on every fill of the palette.
pub const INK: &str = "#1e1e1e";
/// Room left between the text and the shape's box, in board units.
pub const PAD: f64 = 8.0;
/// Line height, in font sizes.
pub const LINE_HEIGHT: f64 = 1.25;
/// The font family text is drawn in.
pub const FONT_FAMILY: &str = "system-ui, sans-serif";

/// The colour `shape`'s text is drawn in: the one ink on shapes with a
/// body; a text box's own colour (the palette's darker shade: dark grey
/// until another is chosen), so it reads as the colour it is named.
pub fn ink(shape: &Shape) -> &'static str {
    match shape.kind {
        ShapeKind::Text => shape.fill().paint().1,
        _ => INK,
    }
}

/// How much wider than its longest line a fitted text box is, in font
/// sizes: room for the caret, and a margin for fonts a little wider.
const SPARE: f64 = 0.5;

/// How wide the lines of `shape`'s text may be before they wrap: a text
/// box's never do.
pub fn line_width(shape: &Shape) -> f64 {
    match shape.kind {
        ShapeKind::Text => f64::INFINITY,
        _ => (shape.w - 2.0 * PAD).max(1.0),
    }
}

/// The size of a text box that fits `text` at `size`, its lines measured by
/// `measure` (in board units for a font of that size): the longest line and
/// the lines' height, the margin around, and `SPARE`; within the board's
/// limits.
pub fn fitted(text: &str, size: TextSize, measure: impl Fn(&str, TextSize) -> f64) -> (f64, f64) {
    let units = size.units();
    let widest = text.split('\n').map(|line| measure(line, size)).fold(0.0, f64::max);
    let lines = text.split('\n').count() as f64;
    let w = (widest + 2.0 * PAD + SPARE * units).ceil();
    let h = (lines * units * LINE_HEIGHT + 2.0 * PAD).ceil();
    (w.clamp(MIN_SIDE, BOARD_WIDTH), h.clamp(MIN_SIDE, BOARD_HEIGHT))
}

/// `text` in lines no wider than `width` as `measure` measures them.
pub fn wrap(text: &str, width: f64, measure: impl Fn(&str) -> f64) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let tried = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if measure(&tried) <= width || line.is_empty() && word.is_empty() {
                line = tried;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the line goes letter by letter.
            for ch in word.chars() {
                line.push(ch);
                if measure(&line) > width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::replace(&mut line, ch.to_string()));
                }
            }
        }
        lines.push(line);
    }
    lines
}

/// How wide `line` is at `size` board units, estimated without a font
/// (an average letter of a sans-serif face is a little over half as wide
/// as it is high): for pictures drawn where nothing can be measured.
pub fn estimated_width(line: &str, size: f64) -> f64 {
    line.chars().count() as f64 * size * 0.55
}

/// Where the middle of the first of `lines` lines of `size` sits, from the
/// box's centre (the block of lines is centred).
pub fn first_line_offset(lines: usize, size: f64) -> f64 {
    -(lines.saturating_sub(1) as f64) * size * LINE_HEIGHT / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_at_spaces_and_inside_words_too_long_and_at_line_breaks() {
        let one_per_letter = |s: &str| s.chars().count() as f64;
        assert_eq!(wrap("Buy oat milk", 8.0, one_per_letter), ["Buy oat", "milk"]);
        assert_eq!(wrap("abcdefghij", 4.0, one_per_letter), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\n\nb", 4.0, one_per_letter), ["a", "", "b"]);
        assert_eq!(wrap("", 4.0, one_per_letter), [""]);
        assert_eq!(first_line_offset(3, 20.0), -25.0);
        assert_eq!(first_line_offset(1, 20.0), 0.0);
    }

    #[test]
    fn a_text_box_fits_its_longest_line_and_its_lines_and_never_wraps_them() {
        let per_letter = |s: &str, size: TextSize| s.chars().count() as f64 * size.units() / 2.0;
        // "Buy oat milk": 12 letters of 12 units, margins of 8, half a font size spare.
        assert_eq!(fitted("Buy oat milk", TextSize::M, per_letter), (144.0 + 16.0 + 12.0, 30.0 + 16.0));
        assert_eq!(fitted("a\nlonger", TextSize::S, per_letter), (48.0 + 16.0 + 8.0, 40.0 + 16.0));
        // Empty: the kind's own size, the caret's room.
        assert_eq!(fitted("", TextSize::M, per_letter), ShapeKind::Text.size());
        assert_eq!(fitted(&"x".repeat(5_000), TextSize::Xl, per_letter).0, BOARD_WIDTH);
        let id = crate::model::ShapeId::parse("t").unwrap();
        let (w, h) = fitted("Buy oat milk", TextSize::M, per_letter);
        let shape = Shape { w, h, ..Shape::new(id, ShapeKind::Text, 0.0, 0.0) };
        // Its lines break where they were broken, however narrow its box.
        let narrow = Shape { w: 20.0, ..shape.clone() };
        let lines = wrap("Buy oat milk\nnow", line_width(&narrow), |s| per_letter(s, TextSize::M));
        assert_eq!(lines, ["Buy oat milk", "now"]);
        assert_eq!(ink(&shape), "#495057", "grey, as it is described");
        assert_eq!(ink(&Shape { color: Some(crate::model::Color::Red), ..shape }), "#e03131");
    }
}
