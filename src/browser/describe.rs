//! The canvas's text alternative: one line per shape ("Green circle at 120,
//! 40, 120 × 120, rotated 30°, “Plan”, selected"), in drawing order, for screen readers (and the browser tests).
//!
//! On a crowded board it lists only the topmost `MAX_LINES` shapes (plus the
//! selected ones, wherever they are) and says how many more lie beneath: a list of
//! thousands helps nobody find anything, and the page would re-render it with
//! every frame of a drag.

use std::collections::HashSet;

use leptos::prelude::{RwSignal, Set, WithUntracked};

use crate::board_ui::ShapeLine;
use sketchboard_core::model::{Board, Shape, ShapeId};

const MAX_LINES: usize = 100;
/// The most characters of a shape's text its line reads out.
const TEXT_SHOWN: usize = 200;

pub(super) fn update(lines: RwSignal<Vec<ShapeLine>>, board: &Board, selected: &[ShapeId]) {
    // A set: this runs every frame, and after select-all a list lookup per shape is quadratic.
    let selected: HashSet<&ShapeId> = selected.iter().collect();
    let hidden = board.len().saturating_sub(MAX_LINES);
    let mut out = Vec::with_capacity(board.len().min(MAX_LINES) + 2);
    if hidden > 0 {
        out.push(ShapeLine { id: String::new(), text: format!("{hidden} more shapes beneath these") });
        // Selected shapes among those not listed, a few at most.
        let beneath = board.shapes().take(hidden).filter(|s| selected.contains(&s.id));
        out.extend(beneath.take(MAX_LINES).map(|s| line(s, true)));
    }
    out.extend(board.shapes().skip(hidden).map(|s| line(s, selected.contains(&s.id))));
    // Signals notify on every `set`: skip frames that changed nothing here.
    if lines.with_untracked(|old| *old != out) {
        lines.set(out);
    }
}

fn line(s: &Shape, selected: bool) -> ShapeLine {
    let mark = if selected { ", selected" } else { "" };
    // Whole board units, formatted as integers: nobody reads "120.000001", and
    // the browser's bundle then needs no float formatting.
    let whole = |v: f64| v.round() as i64;
    let (x, y, w, h) = (whole(s.x), whole(s.y), whole(s.w), whole(s.h));
    let turned = match whole(s.rotation) % 360 {
        0 => String::new(),
        r => format!(", rotated {r}°"),
    };
    let (color, kind) = (s.fill().label(), s.kind.css_name());
    let written = match s.text.is_empty() {
        true => String::new(),
        false => format!(", “{}”", shown_text(s)),
    };
    ShapeLine { id: s.id.to_string(), text: format!("{color} {kind} at {x}, {y}, {w} × {h}{turned}{written}{mark}") }
}

/// A shape's text as a line of the list: its first `TEXT_SHOWN` characters,
/// line breaks as spaces.
fn shown_text(s: &Shape) -> String {
    let mut out: String = s
        .text
        .shown()
        .chars()
        .take(TEXT_SHOWN)
        .map(|c| if matches!(c, '\n' | '\t' | '\r') { ' ' } else { c })
        .collect();
    if s.text.len() > TEXT_SHOWN {
        out.push('…');
    }
    out
}
