//! Sketchboard's shared core: what a board is (`model`), what travels on the
//! wire (`protocol`), one tab's side of that protocol (`session`), one
//! person's undo and redo (`undo`), and the editing rules a tab's input
//! goes through (`editor`: tools, gestures, keys and commands).
//!
//! Plain Rust with no I/O, compiled into the server, into the browser's
//! WebAssembly and into the load generator, so all three apply a change, read
//! a message and resume a connection with the very same code. `presence` is
//! the channel beside the changes (`roster`: who is here, where they point); `viewport`
//! the part of the board a tab shows (zoom and pan); `picture` a board drawn
//! (outlines, SVG) alike everywhere, `lettering` the text on its shapes laid
//! out alike, `freehand` a pen stroke's outline, `occlusion` only what can be
//! seen of it; `format` the board file of Export and Import.

pub mod editor;
pub mod format;
pub mod freehand;
pub mod lettering;
pub mod lobby;
pub mod model;
pub mod occlusion;
pub mod picture;
pub mod presence;
pub mod protocol;
pub mod roster;
pub mod session;
mod tagged;
pub mod undo;
pub mod viewport;
