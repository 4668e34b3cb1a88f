//! The text on shapes, on the canvas: centred, wrapped at word boundaries
//! to the shape's width, turned with it and cut off at its box. Measuring
//! text is the slow part, so each shape's lines are kept until its text,
//! width or text size changes: a board of thousands of labelled shapes
//! measures nothing while one of them is dragged.

use std::cell::{Cell, RefCell};

use web_sys::CanvasRenderingContext2d;

use sketchboard_core::lettering::{LINE_HEIGHT, first_line_offset, ink, line_width, wrap};
use sketchboard_core::model::{Board, Shape, ShapeId, TextSize};

/// A shape's text as wrapped, and what it was wrapped for.
struct Wrapped {
    id: ShapeId,
    text: String,
    width: f64,
    size: TextSize,
    lines: Vec<String>,
}

/// The lines of every shape's text, as last wrapped, in the order they were
/// drawn. Shapes are drawn in the same order frame after frame, so the next
/// one wanted is almost always the one after the last: `next` remembers
/// where to look first, and a miss costs one pass (a plain list, not a map:
/// each map type costs the bundle its own copy of the hashing code).
#[derive(Default)]
pub(super) struct Lettering {
    wrapped: RefCell<Vec<Wrapped>>,
    next: Cell<usize>,
}

/// The canvas font for each text size (fixed strings: no formatting per frame).
fn font(size: TextSize) -> &'static str {
    match size {
        TextSize::S => "16px system-ui, sans-serif",
        TextSize::M => "24px system-ui, sans-serif",
        TextSize::L => "36px system-ui, sans-serif",
        TextSize::Xl => "48px system-ui, sans-serif",
    }
}

/// How wide `line` is drawn at `size`, in board units (a font of `size`
/// board units): what text boxes fit their text by.
pub(super) fn measure(ctx: &CanvasRenderingContext2d, line: &str, size: TextSize) -> f64 {
    ctx.set_font(font(size));
    ctx.measure_text(line).map(|m| m.width()).unwrap_or(0.0)
}

impl Lettering {
    /// Draws `shape`'s text (if any) in `ctx`, in board units; the
    /// context's state is as it was afterwards.
    pub(super) fn draw(&self, ctx: &CanvasRenderingContext2d, shape: &Shape) {
        if shape.text.is_empty() {
            return;
        }
        ctx.save();
        let (cx, cy) = shape.centre();
        let _ = ctx.translate(cx, cy);
        let _ = ctx.rotate(shape.rotation.to_radians());
        if shape.kind.has_body() {
            ctx.begin_path();
            ctx.rect(-shape.w / 2.0, -shape.h / 2.0, shape.w, shape.h);
            ctx.clip();
        }
        ctx.set_font(font(shape.text_size));
        ctx.set_fill_style_str(ink(shape));
        ctx.set_text_align("center");
        ctx.set_text_baseline("middle");
        let line_height = shape.text_size.units() * LINE_HEIGHT;
        let mut wrapped = self.wrapped.borrow_mut();
        let at = self.slot_of(&mut wrapped, ctx, shape);
        let lines = &wrapped[at].lines;
        let top = first_line_offset(lines.len(), shape.text_size.units());
        for (i, line) in lines.iter().enumerate() {
            let _ = ctx.fill_text(line, 0.0, top + i as f64 * line_height);
        }
        ctx.restore();
    }

    /// Where `shape`'s lines are kept, wrapped anew if its text, width or
    /// size changed since (or never wrapped).
    fn slot_of(&self, wrapped: &mut Vec<Wrapped>, ctx: &CanvasRenderingContext2d, shape: &Shape) -> usize {
        let next = self.next.get().min(wrapped.len());
        let found = match wrapped.get(next) {
            Some(w) if w.id == shape.id => Some(next),
            _ => wrapped.iter().position(|w| w.id == shape.id),
        };
        // Compared letter by letter: a shape whose text is as wrapped costs no allocation.
        let fresh = |w: &Wrapped| {
            w.width == shape.w
                && w.size == shape.text_size
                && w.text.chars().eq(shape.text.shown_chars().map(|(_, c)| c))
        };
        let at = match found {
            Some(at) if fresh(&wrapped[at]) => at,
            found => {
                let text = shape.text.shown();
                let measure = |s: &str| ctx.measure_text(s).map(|m| m.width()).unwrap_or(0.0);
                let lines = wrap(&text, line_width(shape), measure);
                let new = Wrapped { id: shape.id.clone(), text, width: shape.w, size: shape.text_size, lines };
                match found {
                    Some(at) => {
                        wrapped[at] = new;
                        at
                    }
                    None => {
                        wrapped.insert(next, new);
                        next
                    }
                }
            }
        };
        self.next.set(at + 1);
        at
    }

    /// Forgets the lines of shapes no longer on `board` (only when some are
    /// kept that cannot be there, so most frames pay nothing).
    pub(super) fn keep_only(&self, board: &Board) {
        let mut wrapped = self.wrapped.borrow_mut();
        if wrapped.len() > board.len() {
            wrapped.retain(|w| board.get(&w.id).is_some());
        }
        self.next.set(0);
    }
}
