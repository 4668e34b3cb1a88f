//! The editor: the board's editing rules, free of I/O, so that every gesture
//! is tested natively and the browser only maps DOM events in and paints what
//! comes out. Pointer events (in board units), key commands (`keys`) and
//! toolbar commands go in; changes leave through a `Document`, which applies
//! and sends them; and the editor says what the next frame shows (the
//! selection, a selection rectangle, whether undo and redo can act) and what
//! changed since it was last asked (`Dirty`).
//!
//! The active tool is a state machine (`Tool`), as in tldraw's editor: the
//! select tool (`select`: idle, dragging shapes, dragging a handle of the
//! selection's frame, a selection rectangle) and the text tool (`text_box`:
//! a click starts a text box). Tools with gestures of their own (pen, line,
//! eraser, hand…) join them as new variants, each in a file of its own,
//! without touching the others. What every tool shares (the selection, the undo history, the
//! colour for new shapes) is `Shared`, here, with the bookkeeping that makes
//! each action one change and one undo step (`shared`). Commands on the
//! selection are in `commands`; where new shapes, duplicates and pastes go, in
//! `placing`; the geometry of resizing and turning, in `transform`, and the
//! frame's handles, in `handles`; writing in a shape, in `writing`.
//!
//! The editor reads no clock (the caller passes `now_ms` where time matters)
//! and draws no randomness (new ids come from the generator it is given).

mod commands;
mod document;
mod handles;
pub mod keys;
mod machine;
mod placing;
mod select;
mod shared;
mod text_box;
mod transform;
mod writing;

pub use commands::Stack;
pub use document::{Clipboard, Dirty, Document, Measure, NewId};
pub use handles::{Frame, Handle};
pub use keys::{Binding, Claim, Command, KeyPress};
pub use machine::{Editor, ToolKind};
pub use shared::Held;
pub use writing::FieldText;

#[cfg(test)]
mod tests;
