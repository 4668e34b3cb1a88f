//! Painting shapes on a canvas context: each shape's path, and a pen that
//! sets colours only when they change (on a full board, each call saved is
//! ten thousand calls saved).

use web_sys::CanvasRenderingContext2d;

use sketchboard_core::model::Shape;
use sketchboard_core::picture::Outline;

/// The colours last set on a context while painting shapes (the line width
/// is the caller's: `OUTLINE_WIDTH`).
#[derive(Default)]
pub(super) struct Pen {
    fill: &'static str,
    stroke: &'static str,
}

impl Pen {
    pub(super) fn draw(&mut self, ctx: &CanvasRenderingContext2d, shape: &Shape) {
        if !shape.kind.has_body() {
            return;
        }
        let (fill, stroke) = shape.fill().paint();
        trace(ctx, shape);
        if self.fill != fill {
            ctx.set_fill_style_str(fill);
            self.fill = fill;
        }
        ctx.fill();
        if self.stroke != stroke {
            ctx.set_stroke_style_str(stroke);
            self.stroke = stroke;
        }
        ctx.stroke();
    }
}

/// Traces `shape`'s outline as the current path, turned as the shape is.
pub(super) fn trace(ctx: &CanvasRenderingContext2d, shape: &Shape) {
    ctx.begin_path();
    if shape.rotation == 0.0 {
        trace_upright(ctx, shape);
        return;
    }
    // The path takes the transform in force as it is traced; the outline is
    // stroked after `restore`, at the board's scale, unturned (same width).
    ctx.save();
    let (cx, cy) = shape.centre();
    let _ = ctx.translate(cx, cy);
    let _ = ctx.rotate(shape.rotation.to_radians());
    let _ = ctx.translate(-cx, -cy);
    trace_upright(ctx, shape);
    ctx.restore();
}

fn trace_upright(ctx: &CanvasRenderingContext2d, shape: &Shape) {
    match Outline::of(shape) {
        Outline::Rect { x, y, w, h } => ctx.rect(x, y, w, h),
        Outline::Triangle([(ax, ay), (bx, by), (cx, cy)]) => {
            ctx.move_to(ax, ay);
            ctx.line_to(bx, by);
            ctx.line_to(cx, cy);
            ctx.close_path();
        }
        Outline::Ellipse { cx, cy, rx, ry } => {
            let _ = ctx.ellipse(cx, cy, rx, ry, 0.0, 0.0, std::f64::consts::TAU);
        }
    }
}
