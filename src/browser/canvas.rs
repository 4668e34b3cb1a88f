//! Drawing the board on an HTML canvas.
//!
//! The board is a fixed sheet of `BOARD_WIDTH` × `BOARD_HEIGHT` units shown
//! whole; CSS sizes the canvas, and its backing store is that size times the
//! device pixel ratio so lines stay sharp on HiDPI screens. A pinch zooms and
//! pans it (`viewport`): everything is drawn through that view.
//!
//! While one shape moves on a crowded board (a drag, or someone else's), the
//! shapes beneath it and above it are painted once into two offscreen layers,
//! and each frame only stacks the layers around the moving shape: two image
//! copies instead of thousands of paths.

use std::cell::{Cell, RefCell};

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use super::lettering::Lettering;
use super::marks;
use super::pen::Pen;
use sketchboard_core::editor::{Frame, Measure};
use sketchboard_core::model::{BOARD_HEIGHT, BOARD_WIDTH, Board, Shape, ShapeId};
use sketchboard_core::occlusion::visible;
use sketchboard_core::picture::{BACKGROUND, GRID, OUTLINE_WIDTH, grid_lines};
use sketchboard_core::roster::Roster;
use sketchboard_core::viewport::Viewport;

/// Below this many shapes a full redraw is cheap enough; layers are not worth their memory.
const LAYERS_FROM: usize = 300;
/// From this many shapes a board shown for a moment (a version, while the
/// history slider moves) is first painted at half resolution: a quarter of the
/// pixels to fill, where one sharp repaint of a full board takes a quarter of
/// a second in software.
const ROUGH_FROM: usize = 3_000;
/// The resolution of a rough paint, against a sharp one.
const ROUGH_SCALE: f64 = 0.5;

/// What changed on the board since the last frame, as the live board reports
/// it: this decides whether the layers still hold.
#[derive(Debug, Clone, PartialEq)]
enum Motion {
    Still,
    /// Only this shape moved.
    One(ShapeId),
    /// Anything else.
    Many,
}

/// The board painted without one shape: what is beneath it, and what is above it.
struct Layers {
    moving: ShapeId,
    below: HtmlCanvasElement,
    /// None when nothing is above the moving shape (often: the newest is on top).
    above: Option<HtmlCanvasElement>,
}

/// Converts a pointer position on `el` (client pixels) to board units on the
/// whole sheet (`Canvas::under` then says what lies there at the current zoom).
pub(super) fn to_board(el: &HtmlCanvasElement, client_x: f64, client_y: f64) -> (f64, f64) {
    let rect = el.get_bounding_client_rect();
    let x = (client_x - rect.left()) / rect.width().max(1.0) * BOARD_WIDTH;
    let y = (client_y - rect.top()) / rect.height().max(1.0) * BOARD_HEIGHT;
    (x, y)
}

pub(super) struct Canvas {
    el: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    /// Device pixels per board unit, at zoom 1.
    scale: Cell<f64>,
    /// Which part of the board is shown (after a pinch).
    view: Cell<Viewport>,
    layers: RefCell<Option<Layers>>,
    motion: RefCell<Motion>,
    /// The next full repaint may be rough (`rough_next`).
    rough: Cell<bool>,
    /// The text on shapes, wrapped.
    lettering: Lettering,
    /// The shape being written in: its text field shows its text, not the canvas.
    writing: RefCell<Option<ShapeId>>,
}

impl Canvas {
    pub(super) fn new(el: HtmlCanvasElement) -> Result<Canvas, JsValue> {
        let ctx = el
            .get_context("2d")?
            .ok_or_else(|| JsValue::from_str("this browser has no 2d canvas"))?
            .dyn_into::<CanvasRenderingContext2d>()?;
        let canvas = Canvas {
            el,
            ctx,
            scale: Cell::new(1.0),
            view: Cell::default(),
            layers: RefCell::new(None),
            motion: RefCell::new(Motion::Many),
            rough: Cell::new(false),
            lettering: Lettering::default(),
            writing: RefCell::new(None),
        };
        canvas.fit();
        Ok(canvas)
    }

    pub(super) fn element(&self) -> &HtmlCanvasElement {
        &self.el
    }

    /// Matches the backing store to the canvas's CSS size and the screen's
    /// pixel ratio. Call after a resize or zoom.
    pub(super) fn fit(&self) {
        let dpr = web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0).max(1.0);
        let rect = self.el.get_bounding_client_rect();
        let width = (rect.width() * dpr).round().max(1.0);
        let height = (rect.height() * dpr).round().max(1.0);
        if self.el.width() != width as u32 || self.el.height() != height as u32 {
            self.el.set_width(width as u32);
            self.el.set_height(height as u32);
            self.layers.borrow_mut().take();
        }
        self.scale.set((width / BOARD_WIDTH).min(height / BOARD_HEIGHT));
    }

    /// The board point under a pointer that `to_board` placed at (`sx`, `sy`) on the whole sheet.
    pub(super) fn under(&self, sx: f64, sy: f64) -> (f64, f64) {
        self.view.get().to_board(sx, sy)
    }

    /// Zooms and pans for a pinch (see `Viewport::pinch`); the next frame paints it all.
    pub(super) fn pinch(&self, from: (f64, f64), to: (f64, f64), ratio: f64) {
        let mut view = self.view.get();
        view.pinch(from, to, ratio);
        self.view.set(view);
        self.layers.borrow_mut().take();
        self.changed();
    }

    /// Sets `ctx` to draw in board units, through the view.
    fn board_transform(&self, ctx: &CanvasRenderingContext2d) {
        self.board_transform_at(ctx, 1.0);
    }

    /// The board's transform for a canvas `factor` times the size of ours.
    fn board_transform_at(&self, ctx: &CanvasRenderingContext2d, factor: f64) {
        let view = self.view.get();
        let k = self.scale.get() * view.zoom * factor;
        let _ = ctx.set_transform(k, 0.0, 0.0, k, -view.x * k, -view.y * k);
    }

    /// Notes that shape `id` moved (and, as far as this call says, nothing else changed).
    pub(super) fn moved(&self, id: &ShapeId) {
        let mut motion = self.motion.borrow_mut();
        *motion = match &*motion {
            Motion::Still => Motion::One(id.clone()),
            Motion::One(other) if other == id => Motion::One(id.clone()),
            _ => Motion::Many,
        };
    }

    /// Notes that the board changed in some other way: the next frame paints it all.
    pub(super) fn changed(&self) {
        *self.motion.borrow_mut() = Motion::Many;
        self.rough.set(false);
    }

    /// Like `changed`, for a board shown only for a moment: a large one may be
    /// painted at half resolution (a later `changed` paints it sharp).
    pub(super) fn rough_next(&self) {
        self.changed();
        self.rough.set(true);
    }

    /// Draws the board, with the selection and any selection rectangle on
    /// top, reusing the layers when only the shape they were made for moved
    /// since the last frame.
    pub(super) fn draw(&self, board: &Board, selected: &[ShapeId], frame: Option<Frame>, marquee: Option<[f64; 4]>) {
        let moving = match self.motion.replace(Motion::Still) {
            Motion::One(id) if board.len() >= LAYERS_FROM => Some(id),
            // Nothing changed: the layers (if any) still hold.
            Motion::Still => self.layers.borrow().as_ref().map(|l| l.moving.clone()),
            _ => None,
        };
        let moving = moving.filter(|id| board.get(id).is_some());
        match moving {
            Some(id) => self.draw_layered(board, &id),
            None => {
                self.layers.borrow_mut().take();
                let rough = self.rough.replace(false) && board.len() >= ROUGH_FROM;
                if !(rough && self.paint_rough(board)) {
                    self.paint(&self.ctx, board.shapes(), true);
                }
            }
        }
        self.board_transform(&self.ctx);
        marks::selection(&self.ctx, board, selected, frame, self.pixel());
        if let Some(area) = marquee {
            marks::marquee(&self.ctx, area);
        }
    }

    /// How wide text is on this canvas, for the editor (`Editor::set_measure`).
    pub(super) fn measure(&self) -> Measure {
        let ctx = self.ctx.clone();
        Box::new(move |line, size| super::lettering::measure(&ctx, line, size))
    }

    /// Board units in one CSS pixel, at the current zoom.
    pub(super) fn pixel(&self) -> f64 {
        let dpr = web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0).max(1.0);
        dpr / (self.scale.get() * self.view.get().zoom).max(f64::MIN_POSITIVE)
    }

    /// Draws `shape`'s text, unless its text field shows it.
    fn letter(&self, ctx: &CanvasRenderingContext2d, shape: &Shape) {
        if self.writing.borrow().as_ref() != Some(&shape.id) {
            self.lettering.draw(ctx, shape);
        }
    }

    /// Says which shape is being written in (its text field shows its
    /// text), and forgets the wrapping of shapes no longer on `board`.
    pub(super) fn set_writing(&self, board: &Board, id: Option<&ShapeId>) {
        let mut writing = self.writing.borrow_mut();
        if writing.as_ref() != id {
            *writing = id.cloned();
            self.changed();
        }
        self.lettering.keep_only(board);
    }

    /// Where board point (`bx`, `by`) is on the canvas, in CSS pixels from
    /// its top-left corner, and how many CSS pixels a board unit is.
    pub(super) fn css_of(&self, bx: f64, by: f64) -> (f64, f64, f64) {
        let rect = self.el.get_bounding_client_rect();
        let view = self.view.get();
        let k = rect.width() / BOARD_WIDTH * view.zoom;
        ((bx - view.x) * k, (by - view.y) * k, k)
    }

    /// Sets the pointer's look over the board (a CSS `cursor`).
    pub(super) fn set_cursor(&self, cursor: &str) {
        let _ = self.el.style().set_property("cursor", cursor);
    }

    /// Draws the others' selections and pointers over the board (`marks`).
    /// Returns whether any pointer is showing.
    pub(super) fn draw_others(&self, board: &Board, roster: &Roster, now_ms: f64) -> bool {
        marks::others(&self.ctx, board, roster, now_ms)
    }

    /// The layers around `moving` (painted now if they are for another
    /// shape), with `moving` between them.
    fn draw_layered(&self, board: &Board, moving: &ShapeId) {
        let mut layers = self.layers.borrow_mut();
        if layers.as_ref().is_none_or(|l| &l.moving != moving) {
            *layers = self.paint_layers(board, moving);
        }
        let Some(l) = layers.as_ref() else {
            // No offscreen canvas to be had: draw it all.
            self.paint(&self.ctx, board.shapes(), true);
            return;
        };
        let ctx = &self.ctx;
        let _ = ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
        let _ = ctx.draw_image_with_html_canvas_element(&l.below, 0.0, 0.0);
        if let Some(shape) = board.get(moving) {
            self.board_transform(ctx);
            ctx.set_line_width(OUTLINE_WIDTH);
            Pen::default().draw(ctx, shape);
            self.letter(ctx, shape);
            let _ = ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
        }
        if let Some(above) = &l.above {
            let _ = ctx.draw_image_with_html_canvas_element(above, 0.0, 0.0);
        }
    }

    fn paint_layers(&self, board: &Board, moving: &ShapeId) -> Option<Layers> {
        let at = board.shapes().position(|s| &s.id == moving)?;
        let (below, below_ctx) = self.offscreen()?;
        self.paint(&below_ctx, board.shapes().take(at), true);
        let above = if at + 1 < board.len() {
            let (above, above_ctx) = self.offscreen()?;
            self.paint(&above_ctx, board.shapes().skip(at + 1), false);
            Some(above)
        } else {
            None
        };
        Some(Layers { moving: moving.clone(), below, above })
    }

    /// Paints the board at half resolution and scales it up onto ours; false
    /// if there was no canvas to paint it on. (Outlines stay: without them,
    /// overlapping shapes of one colour are one blot.)
    fn paint_rough(&self, board: &Board) -> bool {
        let (w, h) = (self.el.width(), self.el.height());
        let small = |n: u32| ((f64::from(n) * ROUGH_SCALE) as u32).max(1);
        let Some((half, ctx)) = self.offscreen_of(small(w), small(h)) else { return false };
        self.paint_at(&ctx, board.shapes(), true, true);
        let _ = self.ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
        // Scaled by exactly 1 / ROUGH_SCALE, as painted (an odd size is not stretched).
        let (dw, dh) = (f64::from(half.width()) / ROUGH_SCALE, f64::from(half.height()) / ROUGH_SCALE);
        let drawn = self.ctx.draw_image_with_html_canvas_element_and_dw_and_dh(&half, 0.0, 0.0, dw, dh);
        drawn.is_ok()
    }

    /// A transparent canvas the size of ours.
    fn offscreen(&self) -> Option<(HtmlCanvasElement, CanvasRenderingContext2d)> {
        self.offscreen_of(self.el.width(), self.el.height())
    }

    fn offscreen_of(&self, width: u32, height: u32) -> Option<(HtmlCanvasElement, CanvasRenderingContext2d)> {
        let document = web_sys::window()?.document()?;
        let el = document.create_element("canvas").ok()?.dyn_into::<HtmlCanvasElement>().ok()?;
        el.set_width(width);
        el.set_height(height);
        let ctx = el.get_context("2d").ok()??.dyn_into::<CanvasRenderingContext2d>().ok()?;
        Some((el, ctx))
    }

    /// Paints `shapes` in order into `ctx`, on the background and grid if
    /// `ground` (otherwise on whatever is there: transparent, for a layer).
    fn paint<'a>(
        &self,
        ctx: &CanvasRenderingContext2d,
        shapes: impl DoubleEndedIterator<Item = &'a Shape>,
        ground: bool,
    ) {
        self.paint_at(ctx, shapes, ground, false);
    }

    /// `paint`; `rough`: into a canvas half the size of ours.
    fn paint_at<'a>(
        &self,
        ctx: &CanvasRenderingContext2d,
        shapes: impl DoubleEndedIterator<Item = &'a Shape>,
        ground: bool,
        rough: bool,
    ) {
        let factor = if rough { ROUGH_SCALE } else { 1.0 };
        self.board_transform_at(ctx, factor);
        if ground {
            ctx.set_fill_style_str(BACKGROUND);
            ctx.fill_rect(0.0, 0.0, BOARD_WIDTH, BOARD_HEIGHT);
            Self::draw_grid(ctx);
        }
        // The pen's colours are set only when they change, and its width once:
        // on a full board each call saved is ten thousand calls saved.
        let mut pen = Pen::default();
        ctx.set_line_width(OUTLINE_WIDTH);
        // Only what can be seen: on a full board about a third of the shapes.
        let pixel = 1.0 / (self.scale.get() * self.view.get().zoom * factor);
        for shape in visible(shapes, pixel) {
            pen.draw(ctx, shape);
            self.letter(ctx, shape);
        }
    }

    fn draw_grid(ctx: &CanvasRenderingContext2d) {
        ctx.begin_path();
        for [(x0, y0), (x1, y1)] in grid_lines() {
            ctx.move_to(x0, y0);
            ctx.line_to(x1, y1);
        }
        ctx.set_stroke_style_str(GRID);
        ctx.set_line_width(1.0);
        ctx.stroke();
    }
}
