//! What part of the board a tab shows: the whole sheet (zoom 1), or, after a
//! pinch, a closer look at part of it. Plain arithmetic, shared so it can be
//! tested natively; the browser's canvas draws through it and reads pointers
//! back through it.
//!
//! "Screen" points here are board units as the unzoomed sheet would place
//! them (what the canvas's size maps a pointer to); `Viewport` turns them into
//! the board units under them. The view never leaves the board: at any zoom,
//! the sheet fills it edge to edge.

use crate::model::{BOARD_HEIGHT, BOARD_WIDTH};

/// The closest look a pinch can give.
pub const MAX_ZOOM: f64 = 4.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    /// 1 shows the whole board; 2 shows a quarter of it, twice as large.
    pub zoom: f64,
    /// The board point at the view's top left corner.
    pub x: f64,
    pub y: f64,
}

impl Default for Viewport {
    fn default() -> Self {
        Viewport { zoom: 1.0, x: 0.0, y: 0.0 }
    }
}

impl Viewport {
    /// The board point under screen point (`sx`, `sy`).
    pub fn to_board(&self, sx: f64, sy: f64) -> (f64, f64) {
        (self.x + sx / self.zoom, self.y + sy / self.zoom)
    }

    /// A pinch: the fingers' midpoint moved from `from` to `to` (screen
    /// points) while their spread changed by `ratio`. The board point that
    /// was under the midpoint stays under it, zoomed by `ratio` (within 1 to
    /// `MAX_ZOOM`), so the board follows the fingers.
    pub fn pinch(&mut self, from: (f64, f64), to: (f64, f64), ratio: f64) {
        let ratio = if ratio.is_finite() && ratio > 0.0 { ratio } else { 1.0 };
        let held = self.to_board(from.0, from.1);
        self.zoom = (self.zoom * ratio).clamp(1.0, MAX_ZOOM);
        self.x = held.0 - to.0 / self.zoom;
        self.y = held.1 - to.1 / self.zoom;
        self.clamp();
    }

    /// Keeps the board filling the view.
    fn clamp(&mut self) {
        self.x = self.x.clamp(0.0, BOARD_WIDTH - BOARD_WIDTH / self.zoom);
        self.y = self.y.clamp(0.0, BOARD_HEIGHT - BOARD_HEIGHT / self.zoom);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinch_keeps_the_point_between_the_fingers_and_the_board_in_view() {
        let mut v = Viewport::default();
        assert_eq!(v.to_board(800.0, 500.0), (800.0, 500.0));
        v.pinch((800.0, 500.0), (800.0, 500.0), 2.0);
        assert_eq!(v.zoom, 2.0);
        assert_eq!(v.to_board(800.0, 500.0), (800.0, 500.0), "the midpoint stays put");
        assert_eq!(v.to_board(0.0, 0.0), (400.0, 250.0));
        // Two fingers moving together pan: the board follows them.
        v.pinch((800.0, 500.0), (600.0, 500.0), 1.0);
        assert_eq!(v.to_board(600.0, 500.0), (800.0, 500.0));
        // Never past the board's edges, never closer than MAX_ZOOM or further than the whole.
        v.pinch((0.0, 0.0), (1600.0, 1000.0), 1.0);
        assert_eq!((v.x, v.y), (0.0, 0.0));
        v.pinch((0.0, 0.0), (0.0, 0.0), 100.0);
        assert_eq!(v.zoom, MAX_ZOOM);
        v.pinch((0.0, 0.0), (0.0, 0.0), 0.0001);
        assert_eq!(v, Viewport::default());
        v.pinch((0.0, 0.0), (0.0, 0.0), f64::NAN);
        assert_eq!(v, Viewport::default());
    }
}
