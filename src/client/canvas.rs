//! Drawing the board on an HTML canvas.
//!
//! The board is a fixed sheet of `BOARD_WIDTH` × `BOARD_HEIGHT` units shown
//! whole; CSS sizes the canvas, and its backing store is that size times the
//! device pixel ratio so lines stay sharp on HiDPI screens.

use std::cell::Cell;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use crate::model::{BOARD_HEIGHT, BOARD_WIDTH, Board, Shape, ShapeId, ShapeKind};

const BACKGROUND: &str = "#ffffff";
const GRID: &str = "#eef1f4";
const SELECTION: &str = "#7048e8";

/// Fill and outline of each kind. The end-to-end tests read these pixels.
pub fn colours(kind: ShapeKind) -> (&'static str, &'static str) {
    match kind {
        ShapeKind::Rectangle => ("#a5d8ff", "#1c7ed6"),
        ShapeKind::Triangle => ("#ffd8a8", "#e8590c"),
        ShapeKind::Circle => ("#b2f2bb", "#2f9e44"),
    }
}

pub struct Canvas {
    el: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    /// Device pixels per board unit.
    scale: Cell<f64>,
}

impl Canvas {
    pub fn new(el: HtmlCanvasElement) -> Result<Canvas, JsValue> {
        let ctx = el
            .get_context("2d")?
            .ok_or_else(|| JsValue::from_str("this browser has no 2d canvas"))?
            .dyn_into::<CanvasRenderingContext2d>()?;
        let canvas = Canvas { el, ctx, scale: Cell::new(1.0) };
        canvas.fit();
        Ok(canvas)
    }

    pub fn element(&self) -> &HtmlCanvasElement {
        &self.el
    }

    /// Matches the backing store to the canvas's CSS size and the screen's
    /// pixel ratio. Call after a resize or zoom.
    pub fn fit(&self) {
        let dpr = web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0).max(1.0);
        let rect = self.el.get_bounding_client_rect();
        let width = (rect.width() * dpr).round().max(1.0);
        let height = (rect.height() * dpr).round().max(1.0);
        if self.el.width() != width as u32 || self.el.height() != height as u32 {
            self.el.set_width(width as u32);
            self.el.set_height(height as u32);
        }
        self.scale.set((width / BOARD_WIDTH).min(height / BOARD_HEIGHT));
    }

    /// Converts a pointer position (client pixels) to board units.
    pub fn to_board(&self, client_x: f64, client_y: f64) -> (f64, f64) {
        let rect = self.el.get_bounding_client_rect();
        let x = (client_x - rect.left()) / rect.width().max(1.0) * BOARD_WIDTH;
        let y = (client_y - rect.top()) / rect.height().max(1.0) * BOARD_HEIGHT;
        (x, y)
    }

    pub fn draw(&self, board: &Board, selected: Option<&ShapeId>) {
        let ctx = &self.ctx;
        let s = self.scale.get();
        let _ = ctx.set_transform(s, 0.0, 0.0, s, 0.0, 0.0);
        ctx.set_fill_style_str(BACKGROUND);
        ctx.fill_rect(0.0, 0.0, BOARD_WIDTH, BOARD_HEIGHT);
        self.draw_grid();
        let mut selected_shape = None;
        for shape in board.shapes() {
            self.draw_shape(shape);
            if Some(&shape.id) == selected {
                selected_shape = Some(shape);
            }
        }
        if let Some(shape) = selected_shape {
            self.draw_selection(shape);
        }
    }

    fn draw_grid(&self) {
        let ctx = &self.ctx;
        ctx.begin_path();
        let mut x = 100.0;
        while x < BOARD_WIDTH {
            ctx.move_to(x, 0.0);
            ctx.line_to(x, BOARD_HEIGHT);
            x += 100.0;
        }
        let mut y = 100.0;
        while y < BOARD_HEIGHT {
            ctx.move_to(0.0, y);
            ctx.line_to(BOARD_WIDTH, y);
            y += 100.0;
        }
        ctx.set_stroke_style_str(GRID);
        ctx.set_line_width(1.0);
        ctx.stroke();
    }

    fn trace(&self, shape: &Shape) {
        let ctx = &self.ctx;
        let (w, h) = shape.kind.size();
        ctx.begin_path();
        match shape.kind {
            ShapeKind::Rectangle => ctx.rect(shape.x, shape.y, w, h),
            ShapeKind::Triangle => {
                ctx.move_to(shape.x + w / 2.0, shape.y);
                ctx.line_to(shape.x + w, shape.y + h);
                ctx.line_to(shape.x, shape.y + h);
                ctx.close_path();
            }
            ShapeKind::Circle => {
                let _ = ctx.ellipse(
                    shape.x + w / 2.0,
                    shape.y + h / 2.0,
                    w / 2.0,
                    h / 2.0,
                    0.0,
                    0.0,
                    std::f64::consts::TAU,
                );
            }
        }
    }

    fn draw_shape(&self, shape: &Shape) {
        let (fill, stroke) = colours(shape.kind);
        self.trace(shape);
        self.ctx.set_fill_style_str(fill);
        self.ctx.fill();
        self.ctx.set_stroke_style_str(stroke);
        self.ctx.set_line_width(2.0);
        self.ctx.stroke();
    }

    /// An outline on the shape itself and a dashed box with corner handles
    /// around it, as in Excalidraw and tldraw.
    fn draw_selection(&self, shape: &Shape) {
        let ctx = &self.ctx;
        self.trace(shape);
        ctx.set_stroke_style_str(SELECTION);
        ctx.set_line_width(4.0);
        ctx.stroke();
        let (w, h) = shape.kind.size();
        let pad = 8.0;
        let (x0, y0, x1, y1) = (shape.x - pad, shape.y - pad, shape.x + w + pad, shape.y + h + pad);
        let dash = js_sys::Array::of2(&JsValue::from_f64(6.0), &JsValue::from_f64(4.0));
        let _ = ctx.set_line_dash(&dash);
        ctx.set_line_width(1.5);
        ctx.stroke_rect(x0, y0, x1 - x0, y1 - y0);
        let _ = ctx.set_line_dash(&js_sys::Array::new());
        ctx.set_fill_style_str(BACKGROUND);
        for (hx, hy) in [(x0, y0), (x1, y0), (x0, y1), (x1, y1)] {
            ctx.fill_rect(hx - 5.0, hy - 5.0, 10.0, 10.0);
            ctx.stroke_rect(hx - 5.0, hy - 5.0, 10.0, 10.0);
        }
    }
}
