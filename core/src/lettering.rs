//! The text on a shape, laid out the same way wherever a board is drawn: in
//! the shape's box less a margin, centred, wrapped at spaces (inside a word
//! when one word is wider than the box), a new line at each line break, in
//! one ink on every fill. The canvas measures lines with the browser's font;
//! the server's pictures, which have no font to measure with, estimate.

/// The colour of text, on every fill of the palette.
pub const INK: &str = "#1e1e1e";
/// Room left between the text and the shape's box, in board units.
pub const PAD: f64 = 8.0;
/// Line height, in font sizes.
pub const LINE_HEIGHT: f64 = 1.25;
/// The font family text is drawn in.
pub const FONT_FAMILY: &str = "system-ui, sans-serif";

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
}
