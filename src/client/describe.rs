//! The canvas's text alternative: one line per shape ("Circle at 120, 40,
//! selected"), in drawing order, for screen readers (and the browser tests).
//!
//! On a small board it is rebuilt with every frame that changed something. On
//! a big one that would cost more than the frame itself (thousands of lines
//! for the page to diff at 60 Hz during a drag), so it is rebuilt at most
//! every `BIG_BOARD_EVERY_MS`, and once more after the last change.

use std::cell::Cell;

use leptos::prelude::{RwSignal, Set};

use super::pages::ShapeLine;
use crate::model::{Board, ShapeId};

/// Up to this many shapes, the lines follow every frame.
const EAGER_UP_TO: usize = 500;
const BIG_BOARD_EVERY_MS: f64 = 500.0;

pub struct TextAlternative {
    lines: RwSignal<Vec<ShapeLine>>,
    built_at: Cell<f64>,
    /// The lines are behind the board, and a late rebuild is scheduled.
    behind: Cell<bool>,
}

impl TextAlternative {
    pub fn new(lines: RwSignal<Vec<ShapeLine>>) -> TextAlternative {
        TextAlternative { lines, built_at: Cell::new(f64::NEG_INFINITY), behind: Cell::new(false) }
    }

    /// Brings the lines up to date with `board`, now or (on a big board that
    /// was rebuilt recently) later: then `later` is called once, after the
    /// wait, to ask for another frame.
    pub fn update(&self, board: &Board, selected: Option<&ShapeId>, later: impl FnOnce() + 'static) {
        let now = now_ms();
        // (A little slack, so the timer's own frame is never judged too early.)
        let since = now - self.built_at.get();
        if board.len() > EAGER_UP_TO && since < BIG_BOARD_EVERY_MS - 2.0 {
            if !self.behind.replace(true) {
                let wait = (BIG_BOARD_EVERY_MS - since).ceil() as u32;
                gloo_timers::callback::Timeout::new(wait, later).forget();
            }
            return;
        }
        self.behind.set(false);
        self.built_at.set(now);
        self.lines.set(board.shapes().map(|s| line(s, selected == Some(&s.id))).collect());
    }
}

fn line(s: &crate::model::Shape, selected: bool) -> ShapeLine {
    let mark = if selected { ", selected" } else { "" };
    ShapeLine { id: s.id.to_string(), text: format!("{} at {}, {}{mark}", s.kind.label(), s.x.round(), s.y.round()) }
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}
