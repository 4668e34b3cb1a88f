//! A board as a picture: each shape's outline, and the board as SVG. The
//! canvas, the page without JavaScript, the `.svg` and `.png` answers and the
//! exports all draw from `Outline`, in the palette's colours (`Color::paint`),
//! on the same white sheet with the same grid, so every picture of a board
//! looks like every other.

use std::fmt::Write;

use crate::lettering::{FONT_FAMILY, LINE_HEIGHT, estimated_width, first_line_offset, ink, line_width, wrap};
use crate::model::{BOARD_HEIGHT, BOARD_WIDTH, Board, Shape, ShapeKind};

/// The sheet's colour, and its grid's.
pub const BACKGROUND: &str = "#ffffff";
pub const GRID: &str = "#eef1f4";
/// Board units between grid lines.
pub const GRID_STEP: f64 = 100.0;
/// The width of a shape's outline, in board units.
pub const OUTLINE_WIDTH: f64 = 2.0;

/// A shape's outline, in board units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outline {
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
    },
    /// Apex, bottom right, bottom left.
    Triangle([(f64, f64); 3]),
    Ellipse {
        cx: f64,
        cy: f64,
        rx: f64,
        ry: f64,
    },
}

impl Outline {
    /// `shape`'s outline before turning: draw it turned `shape.rotation`
    /// degrees about `shape.centre()`.
    pub fn of(shape: &Shape) -> Outline {
        let (w, h) = shape.size();
        let (x, y) = (shape.x, shape.y);
        match shape.kind {
            ShapeKind::Rectangle | ShapeKind::Note | ShapeKind::Text => Outline::Rect { x, y, w, h },
            ShapeKind::Triangle => Outline::Triangle([(x + w / 2.0, y), (x + w, y + h), (x, y + h)]),
            ShapeKind::Circle => Outline::Ellipse { cx: x + w / 2.0, cy: y + h / 2.0, rx: w / 2.0, ry: h / 2.0 },
        }
    }
}

/// The grid's lines, each from one end to the other.
pub fn grid_lines() -> impl Iterator<Item = [(f64, f64); 2]> {
    let columns = (1..).map(|i| i as f64 * GRID_STEP).take_while(|x| *x < BOARD_WIDTH);
    let rows = (1..).map(|i| i as f64 * GRID_STEP).take_while(|y| *y < BOARD_HEIGHT);
    columns.map(|x| [(x, 0.0), (x, BOARD_HEIGHT)]).chain(rows.map(|y| [(0.0, y), (BOARD_WIDTH, y)]))
}

/// The board as a standalone SVG document (also valid inline in HTML): the
/// sheet, the grid, then the shapes bottom first, each with its text. What
/// people wrote is the only thing in it a client typed, and it is escaped
/// (`text_of`); the rest is validated numbers, ids and the palette.
pub fn svg(board: &Board) -> String {
    svg_of(board.len(), board.shapes())
}

/// `svg` of a board of `count` shapes, drawing only `shapes` (bottom first):
/// the room page leaves out those that cannot be seen (`occlusion`), while
/// the label still counts them all.
pub fn svg_of<'a>(count: usize, shapes: impl Iterator<Item = &'a Shape>) -> String {
    let mut out = String::with_capacity(400 + shapes.size_hint().0 * 110);
    let label = match count {
        1 => "1 shape".to_owned(),
        n => format!("{n} shapes"),
    };
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {BOARD_WIDTH} {BOARD_HEIGHT}\" \
         width=\"{BOARD_WIDTH}\" height=\"{BOARD_HEIGHT}\" role=\"img\" aria-label=\"The board: {label}\">\
         <rect width=\"{BOARD_WIDTH}\" height=\"{BOARD_HEIGHT}\" fill=\"{BACKGROUND}\"/><path d=\""
    );
    for [(x0, y0), (x1, y1)] in grid_lines() {
        let _ = write!(out, "M{x0} {y0}L{x1} {y1}");
    }
    let _ = write!(out, "\" stroke=\"{GRID}\" stroke-width=\"1\"/>");
    for shape in shapes {
        if !shape.kind.has_body() {
            text_of(&mut out, shape);
            continue;
        }
        let (fill, stroke) = shape.fill().paint();
        let mut paint = format!("fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{OUTLINE_WIDTH}\"");
        if shape.rotation != 0.0 {
            let (cx, cy) = shape.centre();
            let _ = write!(paint, " transform=\"rotate({} {cx} {cy})\"", shape.rotation);
        }
        let _ = match Outline::of(shape) {
            Outline::Rect { x, y, w, h } => {
                write!(out, "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" {paint}/>")
            }
            Outline::Triangle([(ax, ay), (bx, by), (cx, cy)]) => {
                write!(out, "<polygon points=\"{ax},{ay} {bx},{by} {cx},{cy}\" {paint}/>")
            }
            Outline::Ellipse { cx, cy, rx, ry } => {
                write!(out, "<ellipse cx=\"{cx}\" cy=\"{cy}\" rx=\"{rx}\" ry=\"{ry}\" {paint}/>")
            }
        };
        text_of(&mut out, shape);
    }
    out.push_str("</svg>");
    out
}

/// `shape`'s text as SVG (nothing when it has none): laid out as on the
/// canvas (`lettering`, widths estimated), turned with the shape and cut
/// off at its box (a text box's text is not).
fn text_of(out: &mut String, shape: &Shape) {
    if shape.text.is_empty() {
        return;
    }
    let size = shape.text_size.units();
    let lines = wrap(&shape.text.shown(), line_width(shape), |line| estimated_width(line, size));
    let (cx, cy) = shape.centre();
    let (x, y, w, h, id) = (shape.x, shape.y, shape.w, shape.h, &shape.id);
    if shape.kind.has_body() {
        let _ = write!(
            out,
            "<clipPath id=\"text-{id}\"><rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\"/></clipPath>"
        );
    }
    let ink = ink(shape);
    let _ = write!(
        out,
        "<text font-family=\"{FONT_FAMILY}\" font-size=\"{size}\" fill=\"{ink}\" text-anchor=\"middle\" \
         dominant-baseline=\"central\""
    );
    if shape.kind.has_body() {
        let _ = write!(out, " clip-path=\"url(#text-{id})\"");
    }
    if shape.rotation != 0.0 {
        let _ = write!(out, " transform=\"rotate({} {cx} {cy})\"", shape.rotation);
    }
    out.push('>');
    let top = cy + first_line_offset(lines.len(), size);
    for (i, line) in lines.iter().enumerate() {
        let _ = write!(out, "<tspan x=\"{cx}\" y=\"{}\">", top + i as f64 * size * LINE_HEIGHT);
        escape_into(out, line);
        out.push_str("</tspan>");
    }
    out.push_str("</text>");
}

/// `s` as XML character data: markup characters as entities, and the two
/// characters XML does not allow (U+FFFE, U+FFFF) as U+FFFD.
fn escape_into(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            ch => out.push(ch),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{Change, Color, ShapeId};

    #[test]
    fn every_shape_is_drawn_in_order_in_its_colour() {
        let mut board = Board::new();
        for (id, kind, x) in
            [("a", ShapeKind::Rectangle, 10.0), ("b", ShapeKind::Circle, 300.0), ("c", ShapeKind::Triangle, 600.5)]
        {
            let shape = Shape::new(ShapeId::parse(id).unwrap(), kind, x, 20.0);
            board.apply(&Change::Create { shape }).unwrap();
        }
        board.apply(&Change::Color { id: ShapeId::parse("b").unwrap(), color: Color::Red }).unwrap();
        let svg = svg(&board);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1600 1000\""));
        assert!(svg.contains("aria-label=\"The board: 3 shapes\""));
        let rect = svg.find("<rect x=\"10\" y=\"20\" width=\"160\" height=\"100\" fill=\"#a5d8ff\"").unwrap();
        let circle = svg.find("<ellipse cx=\"360\" cy=\"80\" rx=\"60\" ry=\"60\" fill=\"#ffc9c9\"").unwrap();
        let triangle = svg.find("<polygon points=\"670.5,20 740.5,140 600.5,140\"").unwrap();
        assert!(rect < circle && circle < triangle, "bottom first");
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn a_resized_turned_shape_is_drawn_at_its_size_turned_about_its_centre() {
        let mut board = Board::new();
        let shape = Shape {
            w: 200.0,
            h: 50.0,
            rotation: 30.0,
            ..Shape::new(ShapeId::parse("a").unwrap(), ShapeKind::Rectangle, 10.0, 20.0)
        };
        board.apply(&Change::Create { shape }).unwrap();
        let svg = svg(&board);
        assert!(
            svg.contains("<rect x=\"10\" y=\"20\" width=\"200\" height=\"50\" fill=\"#a5d8ff\" stroke=\"#1c7ed6\" stroke-width=\"2\" transform=\"rotate(30 110 45)\"/>"),
            "{svg}"
        );
    }

    #[test]
    fn text_is_drawn_escaped_wrapped_centred_turned_and_cut_off_at_the_box() {
        let mut board = Board::new();
        let shape = Shape {
            w: 200.0,
            h: 100.0,
            rotation: 90.0,
            text: crate::model::Text::whole("<b>Tom & \"Jerry\"</b> \u{fffe}").unwrap(),
            ..Shape::new(ShapeId::parse("n1").unwrap(), ShapeKind::Rectangle, 100.0, 100.0)
        };
        board.apply(&Change::Create { shape }).unwrap();
        let svg = svg(&board);
        assert!(!svg.contains("<b>") && !svg.contains("Tom & "), "no markup gets through: {svg}");
        assert!(
            svg.contains(">&lt;b&gt;Tom &amp;</tspan>") && svg.contains(">&quot;Jerry&quot;&lt;/b&gt; \u{fffd}<"),
            "{svg}"
        );
        assert!(svg.contains("\u{fffd}") && !svg.contains('\u{fffe}'));
        assert!(
            svg.contains(
                "<clipPath id=\"text-n1\"><rect x=\"100\" y=\"100\" width=\"200\" height=\"100\"/></clipPath>"
            )
        );
        assert!(svg.contains("clip-path=\"url(#text-n1)\" transform=\"rotate(90 200 150)\">"), "{svg}");
        // 22 letters of 24 units, about 13 units wide each, do not fit in 184: two lines about the centre.
        assert_eq!(svg.matches("<tspan x=\"200\"").count(), 2, "{svg}");
        assert!(svg.contains("y=\"135\"") && svg.contains("y=\"165\""), "{svg}");
    }

    #[test]
    fn a_text_box_is_only_its_text_in_its_ink_never_cut_off() {
        let mut board = Board::new();
        let shape = Shape {
            w: 120.0,
            text: crate::model::Text::whole("Plan").unwrap(),
            color: Some(crate::model::Color::Blue),
            ..Shape::new(ShapeId::parse("t1").unwrap(), ShapeKind::Text, 100.0, 100.0)
        };
        board.apply(&Change::Create { shape }).unwrap();
        let svg = svg(&board);
        let shape_part = &svg[svg.find("<text").unwrap()..];
        assert!(
            shape_part.starts_with("<text font-family=\"system-ui, sans-serif\" font-size=\"24\" fill=\"#1c7ed6\"")
        );
        assert!(!svg.contains("clip") && !svg.contains("<rect x=\"100\""), "no box, no clip: {svg}");
        assert!(svg.contains("<tspan x=\"160\" y=\"123\">Plan</tspan>"), "{svg}");
    }

    #[test]
    fn the_grid_spans_the_sheet() {
        let lines: Vec<_> = grid_lines().collect();
        assert_eq!(lines.len(), 15 + 9);
        assert_eq!(lines[0], [(100.0, 0.0), (100.0, BOARD_HEIGHT)]);
        assert_eq!(lines[23], [(0.0, 900.0), (BOARD_WIDTH, 900.0)]);
    }
}
