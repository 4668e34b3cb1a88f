//! The key mapping, as a table: each key press, the command it asks for and
//! whether it takes the key from the page.

use super::*;
use crate::editor::keys::{BIG_STEP, STEP, TURN_STEP, map};

#[derive(Clone, Copy)]
struct Mods {
    shift: bool,
    ctrl: bool,
    meta: bool,
    alt: bool,
    off_board: bool,
}

const NONE: Mods = Mods { shift: false, ctrl: false, meta: false, alt: false, off_board: false };
const SHIFT: Mods = Mods { shift: true, ..NONE };
const CTRL: Mods = Mods { ctrl: true, ..NONE };
const CMD: Mods = Mods { meta: true, ..NONE };
const CTRL_SHIFT: Mods = Mods { ctrl: true, shift: true, ..NONE };
const CMD_SHIFT: Mods = Mods { meta: true, shift: true, ..NONE };
const CTRL_ALT: Mods = Mods { ctrl: true, alt: true, ..NONE };
const ALT: Mods = Mods { alt: true, ..NONE };
const SHIFT_ALT: Mods = Mods { shift: true, alt: true, ..NONE };
const OFF_BOARD: Mods = Mods { off_board: true, ..NONE };
const SHIFT_OFF_BOARD: Mods = Mods { shift: true, off_board: true, ..NONE };

/// What a key asks for, and how it claims the key.
type Mapped = Option<(Command, Claim)>;

fn press(key: &str, m: Mods) -> Mapped {
    let press = KeyPress {
        key: key.to_owned(),
        shift: m.shift,
        ctrl: m.ctrl,
        meta: m.meta,
        alt: m.alt,
        on_board: !m.off_board,
    };
    map(&press).map(|b| (b.command, b.claim))
}

#[test]
fn the_key_mapping() {
    use Claim::{Always, IfHandled};
    use Command::*;
    let table: &[(&str, Mods, Mapped)] = &[
        // Ctrl or Cmd: the browser's own action for these means nothing on the board's page.
        ("z", CTRL, Some((Undo, Always))),
        ("Z", CMD, Some((Undo, Always))),
        ("z", CTRL_SHIFT, Some((Redo, Always))),
        ("Z", CMD_SHIFT, Some((Redo, Always))),
        ("y", CTRL, Some((Redo, Always))),
        ("Y", CMD, Some((Redo, Always))),
        ("y", CTRL_SHIFT, None),
        ("]", CTRL, Some((ToFront, Always))),
        ("]", CTRL_SHIFT, Some((ToFront, Always))),
        ("[", CMD, Some((ToBack, Always))),
        ("a", CTRL, Some((SelectAll, Always))),
        ("A", CMD, Some((SelectAll, Always))),
        ("a", CTRL_SHIFT, None),
        ("d", CTRL, Some((Duplicate, Always))),
        ("D", CMD, Some((Duplicate, Always))),
        // Copy and paste only when they act: the page's text copies as usual.
        ("c", CTRL, Some((Copy, IfHandled))),
        ("C", CMD, Some((Copy, IfHandled))),
        ("c", CTRL_SHIFT, None),
        ("v", CTRL, Some((Paste, IfHandled))),
        ("V", CMD, Some((Paste, IfHandled))),
        ("x", CTRL, None),
        ("ArrowLeft", CTRL, None),
        ("Delete", CTRL, None),
        // Alt: only with arrows, which resize; Right and Down grow.
        ("z", CTRL_ALT, None),
        ("ArrowLeft", CTRL_ALT, None),
        ("z", ALT, None),
        ("ArrowLeft", ALT, Some((Resize { dw: -STEP, dh: 0.0 }, IfHandled))),
        ("ArrowRight", ALT, Some((Resize { dw: STEP, dh: 0.0 }, IfHandled))),
        ("ArrowUp", ALT, Some((Resize { dw: 0.0, dh: -STEP }, IfHandled))),
        ("ArrowDown", SHIFT_ALT, Some((Resize { dw: 0.0, dh: BIG_STEP }, IfHandled))),
        // `>` and `<` (Shift+. and Shift+, on most keyboards) turn.
        (">", SHIFT, Some((Rotate { degrees: TURN_STEP }, IfHandled))),
        ("<", SHIFT, Some((Rotate { degrees: -TURN_STEP }, IfHandled))),
        (">", CTRL, None),
        // Arrows: only when something is selected (the page scrolls otherwise).
        ("ArrowLeft", NONE, Some((Nudge { dx: -STEP, dy: 0.0 }, IfHandled))),
        ("ArrowRight", NONE, Some((Nudge { dx: STEP, dy: 0.0 }, IfHandled))),
        ("ArrowUp", NONE, Some((Nudge { dx: 0.0, dy: -STEP }, IfHandled))),
        ("ArrowDown", NONE, Some((Nudge { dx: 0.0, dy: STEP }, IfHandled))),
        ("ArrowLeft", SHIFT, Some((Nudge { dx: -BIG_STEP, dy: 0.0 }, IfHandled))),
        ("ArrowDown", SHIFT, Some((Nudge { dx: 0.0, dy: BIG_STEP }, IfHandled))),
        ("ArrowRight", OFF_BOARD, Some((Nudge { dx: STEP, dy: 0.0 }, IfHandled))),
        ("Delete", NONE, Some((Delete, IfHandled))),
        ("Backspace", SHIFT, Some((Delete, IfHandled))),
        ("Escape", NONE, Some((ClearSelection, IfHandled))),
        // Tab: only on the board itself; past the ends the focus moves on.
        ("Tab", NONE, Some((Cycle { back: false }, IfHandled))),
        ("Tab", SHIFT, Some((Cycle { back: true }, IfHandled))),
        ("Tab", OFF_BOARD, None),
        ("Tab", SHIFT_OFF_BOARD, None),
        ("z", NONE, None),
        ("a", SHIFT, None),
        ("Enter", NONE, Some((Write, IfHandled))),
        ("Enter", CTRL, None),
        ("n", NONE, Some((Add(ShapeKind::Note), IfHandled))),
        ("N", SHIFT, Some((Add(ShapeKind::Note), IfHandled))),
        ("n", CTRL, None),
        ("t", NONE, Some((Tool(ToolKind::Text), IfHandled))),
        ("T", SHIFT, Some((Tool(ToolKind::Text), IfHandled))),
        ("t", CTRL, None),
    ];
    for (key, mods, expected) in table {
        assert_eq!(
            press(key, *mods),
            *expected,
            "{key} with shift {}, ctrl {}, meta {}, alt {}, off the board {}",
            mods.shift,
            mods.ctrl,
            mods.meta,
            mods.alt,
            mods.off_board
        );
    }
}

#[test]
fn a_binding_claims_the_key_always_or_when_it_acted() {
    let undo = Binding { command: Command::Undo, claim: Claim::Always };
    assert!(undo.claims(false) && undo.claims(true));
    let nudge = Binding { command: Command::Nudge { dx: STEP, dy: 0.0 }, claim: Claim::IfHandled };
    assert!(!nudge.claims(false) && nudge.claims(true));
}
