//! Key presses to commands: the whole keyboard mapping, free of the DOM. The
//! browser hands over each key press it has not ruled out (keys typed into a
//! field never reach the board) as a `KeyPress`; `map` says which command it
//! asks for and whether the page's own action for the key must be stopped
//! always or only when the command acted (`Claim`): with nothing selected,
//! arrows scroll the page; Ctrl+C copies the page's text when no shape is
//! selected; Tab moves the focus on past the last shape.

use super::machine::ToolKind;
use crate::model::ShapeKind;

/// Board units an arrow key moves the selection (with Alt: resizes it); with
/// Shift, `BIG_STEP`.
pub const STEP: f64 = 10.0;
pub const BIG_STEP: f64 = 50.0;
/// Degrees `>` and `<` turn the selection.
pub const TURN_STEP: f64 = 15.0;

/// One key press, as the browser reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPress {
    /// `KeyboardEvent.key`: "a", "ArrowLeft", "Tab"…
    pub key: String,
    pub shift: bool,
    pub ctrl: bool,
    /// Cmd on a Mac.
    pub meta: bool,
    pub alt: bool,
    /// Whether the focus is on the board itself (the canvas).
    pub on_board: bool,
}

/// What a key asks the editor to do (`Editor::run`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command {
    /// An arrow key (Shift: further).
    Nudge { dx: f64, dy: f64 },
    /// Alt and an arrow key: Right and Down wider and taller, Left and Up
    /// narrower and shorter (Shift: by more).
    Resize { dw: f64, dh: f64 },
    /// `>` (Shift+.) clockwise, `<` (Shift+,) anticlockwise.
    Rotate { degrees: f64 },
    /// Delete or Backspace.
    Delete,
    /// Escape.
    ClearSelection,
    /// Ctrl+Z or Cmd+Z.
    Undo,
    /// Ctrl+Shift+Z, Cmd+Shift+Z or Ctrl+Y.
    Redo,
    /// Ctrl+] or Cmd+].
    ToFront,
    /// Ctrl+[ or Cmd+[.
    ToBack,
    /// Ctrl+A or Cmd+A.
    SelectAll,
    /// Ctrl+D or Cmd+D.
    Duplicate,
    /// Ctrl+C or Cmd+C.
    Copy,
    /// Ctrl+V or Cmd+V.
    Paste,
    /// Tab (Shift+Tab: `back`) on the focused board: select the next shape.
    Cycle { back: bool },
    /// Enter: write in the selected shape.
    Write,
    /// N: add a shape of this kind (a note), as its toolbar button does.
    Add(ShapeKind),
    /// T: take up the Text tool, as its toolbar button does.
    Tool(ToolKind),
}

/// When the page's own action for a key gives way to the board's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Always: the browser's undo, select-all, bookmark (Ctrl+D)… have
    /// nothing to do on this page, even when the board cannot act.
    Always,
    /// Only when the command acted.
    IfHandled,
}

/// A key's command, and whether it takes the key from the page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Binding {
    pub command: Command,
    pub claim: Claim,
}

impl Binding {
    /// Whether the page's own action must be stopped, the command having
    /// acted (`handled`) or not.
    pub fn claims(&self, handled: bool) -> bool {
        self.claim == Claim::Always || handled
    }
}

/// The command `press` asks for; none for keys the board leaves alone (Alt
/// with anything but an arrow, Tab away from the board, letters without Ctrl
/// or Cmd…).
pub fn map(press: &KeyPress) -> Option<Binding> {
    let key = press.key.as_str();
    let step = if press.shift { BIG_STEP } else { STEP };
    if press.alt {
        let (dw, dh) = match key {
            _ if press.ctrl || press.meta => return None,
            "ArrowLeft" => (-step, 0.0),
            "ArrowRight" => (step, 0.0),
            "ArrowUp" => (0.0, -step),
            "ArrowDown" => (0.0, step),
            _ => return None,
        };
        return Some(Binding { command: Command::Resize { dw, dh }, claim: Claim::IfHandled });
    }
    if press.ctrl || press.meta {
        // Matched by hand: `to_lowercase` would bring Unicode's case tables.
        let command = match (key, press.shift) {
            ("z" | "Z", false) => Command::Undo,
            ("z" | "Z", true) | ("y" | "Y", false) => Command::Redo,
            ("]", _) => Command::ToFront,
            ("[", _) => Command::ToBack,
            ("a" | "A", false) => Command::SelectAll,
            ("d" | "D", false) => Command::Duplicate,
            // Only when they act on shapes: text selected on the page copies as usual.
            ("c" | "C", false) => return Some(Binding { command: Command::Copy, claim: Claim::IfHandled }),
            ("v" | "V", false) => return Some(Binding { command: Command::Paste, claim: Claim::IfHandled }),
            _ => return None,
        };
        return Some(Binding { command, claim: Claim::Always });
    }
    let command = match key {
        // Only on the board itself; past the last shape, focus moves on as usual.
        "Tab" if press.on_board => Command::Cycle { back: press.shift },
        "ArrowLeft" => Command::Nudge { dx: -step, dy: 0.0 },
        "ArrowRight" => Command::Nudge { dx: step, dy: 0.0 },
        "ArrowUp" => Command::Nudge { dx: 0.0, dy: -step },
        "ArrowDown" => Command::Nudge { dx: 0.0, dy: step },
        "Delete" | "Backspace" => Command::Delete,
        "Escape" => Command::ClearSelection,
        "Enter" => Command::Write,
        "n" | "N" => Command::Add(ShapeKind::Note),
        "t" | "T" => Command::Tool(ToolKind::Text),
        // The characters, whatever keys make them on this keyboard.
        ">" => Command::Rotate { degrees: TURN_STEP },
        "<" => Command::Rotate { degrees: -TURN_STEP },
        _ => return None,
    };
    Some(Binding { command, claim: Claim::IfHandled })
}
