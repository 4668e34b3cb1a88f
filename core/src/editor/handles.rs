//! The selection's frame and its handles, and what dragging one does.
//!
//! One selected shape is framed by its own box, turned as it is; several by
//! the upright box around them. The frame has eight resize handles (corners
//! and the middles of its edges) and a rotation handle above its top edge's
//! middle. Dragging a corner resizes both ways and an edge one way, keeping
//! the opposite corner or edge where it is (Alt: the centre); Shift keeps the
//! proportions. Dragging the rotation handle turns the selection about the
//! frame's centre; Shift snaps the frame's angle to 15°. A side never goes
//! below `MIN_SIDE`: the frame stops there rather than flip over, a choice
//! made for predictability (Excalidraw and tldraw flip).
//!
//! Handles are sized in screen pixels: the caller says how many board units
//! one pixel is (`Editor::set_pixel`).

use crate::model::frame::{corners, normalize_degrees, turn};
use crate::model::{Change, Shape};

use super::transform::{bounds, resize_all, rotate_all, scale_all};

/// How near a handle, in pixels, a press grabs it.
const GRAB_PX: f64 = 9.0;
/// How far above the frame's top edge the rotation handle sits, in pixels.
const ROTATE_ABOVE_PX: f64 = 24.0;
/// Where Shift snaps a turn.
const SNAP_DEGREES: f64 = 15.0;

/// A grip on the selection's frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Handle {
    /// A corner or the middle of an edge, as fractions of the frame's width
    /// and height: (0, 0) its top-left corner, (1, 0.5) its right edge's middle.
    Resize { fx: f64, fy: f64 },
    /// Above the middle of the top edge.
    Rotate,
}

impl Handle {
    /// The eight resize handles, clockwise from the top-left corner.
    pub const RESIZE: [Handle; 8] = [
        Handle::Resize { fx: 0.0, fy: 0.0 },
        Handle::Resize { fx: 0.5, fy: 0.0 },
        Handle::Resize { fx: 1.0, fy: 0.0 },
        Handle::Resize { fx: 1.0, fy: 0.5 },
        Handle::Resize { fx: 1.0, fy: 1.0 },
        Handle::Resize { fx: 0.5, fy: 1.0 },
        Handle::Resize { fx: 0.0, fy: 1.0 },
        Handle::Resize { fx: 0.0, fy: 0.5 },
    ];
}

/// The box the handles sit on: `w` × `h` at (`x`, `y`), turned `rotation`
/// degrees clockwise about its centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub rotation: f64,
}

impl Frame {
    /// The frame of these selected shapes; none if there are none. Reads
    /// them where they are (it runs every frame and every pointer move).
    pub fn of<'a>(shapes: impl IntoIterator<Item = &'a Shape, IntoIter: Clone>) -> Option<Frame> {
        let shapes = shapes.into_iter();
        let mut two = shapes.clone().take(2);
        match (two.next(), two.next()) {
            (Some(one), None) => Some(Frame { x: one.x, y: one.y, w: one.w, h: one.h, rotation: one.rotation }),
            _ => bounds(shapes).map(|[x0, y0, x1, y1]| Frame { x: x0, y: y0, w: x1 - x0, h: y1 - y0, rotation: 0.0 }),
        }
    }

    pub fn centre(&self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    /// Its corners, turned: top-left, top-right, bottom-right, bottom-left.
    pub fn corners(&self) -> [(f64, f64); 4] {
        corners(self.x, self.y, self.w, self.h, self.rotation)
    }

    /// Where `handle` is on the board, when a pixel is `pixel` board units.
    pub fn at(&self, handle: Handle, pixel: f64) -> (f64, f64) {
        let (fx, fy, lift) = match handle {
            Handle::Resize { fx, fy } => (fx, fy, 0.0),
            Handle::Rotate => (0.5, 0.0, ROTATE_ABOVE_PX * pixel),
        };
        let p = (self.x + fx * self.w, self.y + fy * self.h - lift);
        turn(p, self.centre(), self.rotation)
    }

    /// The handle a press at (`x`, `y`) grabs: the nearest within reach.
    pub fn handle_at(&self, x: f64, y: f64, pixel: f64) -> Option<Handle> {
        let reach = GRAB_PX * pixel;
        let all = Handle::RESIZE.into_iter().chain([Handle::Rotate]);
        let near = all.map(|h| {
            let (hx, hy) = self.at(h, pixel);
            (h, ((hx - x) * (hx - x) + (hy - y) * (hy - y)).sqrt())
        });
        near.filter(|(_, d)| *d <= reach).min_by(|a, b| a.1.total_cmp(&b.1)).map(|(h, _)| h)
    }
}

/// A handle being dragged: the shapes and their frame as they were when it
/// was grabbed, and where the press began.
pub(super) struct Grip {
    pub(super) handle: Handle,
    pub(super) frame: Frame,
    pub(super) from: Vec<Shape>,
    pub(super) start: (f64, f64),
}

impl Grip {
    /// The changes that take `from` to where the pointer at `p` puts them,
    /// with Shift (`keep`: proportions kept, turns snapped) and Alt
    /// (`centred`: resized about the centre).
    pub(super) fn changes(&self, p: (f64, f64), keep: bool, centred: bool) -> Vec<Change> {
        match self.handle {
            Handle::Rotate => rotate_all(&self.from, self.turn(p, keep)),
            Handle::Resize { fx, fy } => self.resize(fx, fy, p, keep, centred),
        }
    }

    /// Degrees the pointer has turned the frame since the press.
    fn turn(&self, p: (f64, f64), snap: bool) -> f64 {
        let c = self.frame.centre();
        let angle = |q: (f64, f64)| (q.1 - c.1).atan2(q.0 - c.0).to_degrees();
        let delta = angle(p) - angle(self.start);
        if !snap {
            return delta;
        }
        let target = (normalize_degrees(self.frame.rotation + delta) / SNAP_DEGREES).round() * SNAP_DEGREES;
        target - self.frame.rotation
    }

    fn resize(&self, fx: f64, fy: f64, p: (f64, f64), keep: bool, centred: bool) -> Vec<Change> {
        let f = &self.frame;
        // The pointer in the frame's own, unturned coordinates.
        let (px, py) = turn(p, f.centre(), -f.rotation);
        let (lx, ly) = (px - f.x, py - f.y);
        // Each axis a handle moves: how far from the anchor the pointer is.
        let axis = |frac: f64, along: f64, size: f64| -> (f64, f64) {
            if frac == 0.5 {
                return (0.5, size);
            }
            let anchor = if centred { 0.5 } else { 1.0 - frac };
            let reach = if frac > anchor { along - anchor * size } else { anchor * size - along };
            let size = if centred { 2.0 * reach } else { reach };
            (anchor, size)
        };
        let (mut ax, mut w) = axis(fx, lx, f.w);
        let (mut ay, mut h) = axis(fy, ly, f.h);
        // Never below a sliver: the frame stops rather than flips.
        let (w0, h0) = (f.w.max(f64::MIN_POSITIVE), f.h.max(f64::MIN_POSITIVE));
        (w, h) = (w.max(1.0), h.max(1.0));
        if keep {
            let s = match (fx == 0.5, fy == 0.5) {
                (false, false) => (w / w0).max(h / h0),
                (true, _) => h / h0,
                (_, true) => w / w0,
            };
            (w, h) = (w0 * s, h0 * s);
            // An edge handle grows the other way about its middle.
            if fx == 0.5 {
                ax = 0.5;
            }
            if fy == 0.5 {
                ay = 0.5;
            }
        }
        match self.from.as_slice() {
            [one] => resize_all(one, (ax, ay), w, h),
            group => {
                // The anchor stays where it is on the board; the box grows from it.
                let (x, y) = (f.x + ax * f.w - ax * w, f.y + ay * f.h - ay * h);
                scale_all(group, [f.x, f.y, f.x + f.w, f.y + f.h], [x, y, x + w, y + h])
            }
        }
    }
}
