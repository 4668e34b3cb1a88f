//! What is drawn over the board, in board units on the board's transform:
//! this tab's selection (an outline on each shape, a dashed frame around it,
//! and the frame's handles), the selection rectangle, and the others'
//! selections and pointers in their colours.

use wasm_bindgen::JsValue;
use web_sys::CanvasRenderingContext2d;

use super::pen::trace;
use sketchboard_core::editor::{Frame, Handle};
use sketchboard_core::model::frame::corners;
use sketchboard_core::model::{Board, Shape, ShapeId};
use sketchboard_core::picture::BACKGROUND;
use sketchboard_core::presence::PERSON_PALETTE;
use sketchboard_core::roster::Roster;

const SELECTION: &str = "#7048e8";
const MARQUEE_FILL: &str = "rgba(112, 72, 232, 0.08)";
/// A handle's side, in CSS pixels.
const HANDLE_PX: f64 = 9.0;

/// The selection: each shape outlined, with a dashed box around it, and the
/// handles on the frame (`Frame`), sized in pixels (`pixel` board units each).
pub(super) fn selection(
    ctx: &CanvasRenderingContext2d,
    board: &Board,
    selected: &[ShapeId],
    frame: Option<Frame>,
    pixel: f64,
) {
    ctx.set_stroke_style_str(SELECTION);
    for shape in selected.iter().filter_map(|id| board.get(id)) {
        trace(ctx, shape);
        ctx.set_line_width(4.0);
        ctx.stroke();
        if selected.len() > 1 {
            dashed(ctx, || box_path(ctx, shape, 4.0 * pixel));
        }
    }
    let Some(frame) = frame else { return };
    let outline = corners(frame.x, frame.y, frame.w, frame.h, frame.rotation);
    dashed(ctx, || polygon(ctx, &outline));
    // The rotation handle hangs from the top edge's middle.
    let (tx, ty) = frame.at(Handle::Resize { fx: 0.5, fy: 0.0 }, pixel);
    let (rx, ry) = frame.at(Handle::Rotate, pixel);
    ctx.set_line_width(1.5 * pixel);
    ctx.begin_path();
    ctx.move_to(tx, ty);
    ctx.line_to(rx, ry);
    ctx.stroke();
    ctx.set_fill_style_str(BACKGROUND);
    ctx.begin_path();
    let _ = ctx.arc(rx, ry, HANDLE_PX / 2.0 * pixel, 0.0, std::f64::consts::TAU);
    ctx.fill();
    ctx.stroke();
    let side = HANDLE_PX * pixel;
    for handle in Handle::RESIZE {
        let (hx, hy) = frame.at(handle, pixel);
        // Squares turned with the frame.
        let square = corners(hx - side / 2.0, hy - side / 2.0, side, side, frame.rotation);
        polygon(ctx, &square);
        ctx.fill();
        ctx.stroke();
    }
}

/// Draws what `path` traces as a dashed line.
fn dashed(ctx: &CanvasRenderingContext2d, path: impl FnOnce()) {
    let dash = js_sys::Array::of2(&JsValue::from_f64(6.0), &JsValue::from_f64(4.0));
    let _ = ctx.set_line_dash(&dash);
    ctx.set_line_width(1.5);
    path();
    ctx.stroke();
    let _ = ctx.set_line_dash(&js_sys::Array::new());
}

/// The selection rectangle [x0, y0, x1, y1].
pub(super) fn marquee(ctx: &CanvasRenderingContext2d, [x0, y0, x1, y1]: [f64; 4]) {
    ctx.set_fill_style_str(MARQUEE_FILL);
    ctx.fill_rect(x0, y0, x1 - x0, y1 - y0);
    ctx.set_stroke_style_str(SELECTION);
    ctx.set_line_width(1.0);
    ctx.stroke_rect(x0, y0, x1 - x0, y1 - y0);
}

/// Draws the others' selections (a dashed box in each person's colour,
/// turned as the shape is) and pointers (an arrow with the name beside it).
/// Returns whether any pointer is showing.
pub(super) fn others(ctx: &CanvasRenderingContext2d, board: &Board, roster: &Roster, now_ms: f64) -> bool {
    let mut showing = false;
    for (person, pointer, selection) in roster.others(now_ms) {
        let color = PERSON_PALETTE[usize::from(person.color) % PERSON_PALETTE.len()];
        ctx.set_stroke_style_str(color);
        ctx.set_line_width(2.0);
        let _ = ctx.set_line_dash(&js_sys::Array::of2(&8.0.into(), &4.0.into()));
        let name = person.shown_name();
        ctx.set_font("13px system-ui, sans-serif");
        let mut named = false;
        for shape in selection.iter().filter_map(|id| board.get(id)) {
            box_path(ctx, shape, 6.0);
            ctx.stroke();
            if !named {
                // Whose it is, above the first of their shapes.
                named = true;
                ctx.set_fill_style_str(color);
                let [x0, y0, _, _] = shape.bounds();
                let _ = ctx.fill_text(name, x0 - 6.0, y0 - 10.0);
            }
        }
        let _ = ctx.set_line_dash(&js_sys::Array::new());
        let Some([x, y]) = pointer else { continue };
        showing = true;
        ctx.begin_path();
        ctx.move_to(x, y);
        ctx.line_to(x, y + 18.0);
        ctx.line_to(x + 5.0, y + 13.5);
        ctx.line_to(x + 12.5, y + 13.0);
        ctx.close_path();
        ctx.set_fill_style_str(color);
        ctx.fill();
        ctx.set_stroke_style_str(BACKGROUND);
        ctx.set_line_width(1.5);
        ctx.stroke();
        let width = ctx.measure_text(name).map(|m| m.width()).unwrap_or(60.0);
        ctx.fill_rect(x + 12.0, y + 16.0, width + 10.0, 19.0);
        ctx.set_fill_style_str(BACKGROUND);
        let _ = ctx.fill_text(name, x + 17.0, y + 30.0);
    }
    showing
}

/// Traces `shape`'s box, `pad` board units out from it and turned as it is.
fn box_path(ctx: &CanvasRenderingContext2d, shape: &Shape, pad: f64) {
    let (x, y, w, h) = (shape.x - pad, shape.y - pad, shape.w + 2.0 * pad, shape.h + 2.0 * pad);
    polygon(ctx, &corners(x, y, w, h, shape.rotation));
}

fn polygon(ctx: &CanvasRenderingContext2d, points: &[(f64, f64)]) {
    ctx.begin_path();
    for (i, &(x, y)) in points.iter().enumerate() {
        if i == 0 { ctx.move_to(x, y) } else { ctx.line_to(x, y) }
    }
    ctx.close_path();
}
