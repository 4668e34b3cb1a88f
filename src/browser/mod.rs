//! The browser alone (the `hydrate` build): the live board of a room page and
//! its parts. The pages that show it are `crate::pages` (rendered on the
//! server, their islands alive here); what the live board shows outside its
//! canvas is `crate::board_ui`; the editing rules are the core's `editor`.
//!
//! - `live_board`: wires the parts together; holds the shared `Editor` (the
//!   selection, gestures and undo history); `editing`: each input and toolbar
//!   command handed to the editor, its changes through the session;
//!   `clipboard`: copy and paste's `localStorage`;
//! - `connection`: the WebSocket, reconnecting with backoff; `receiving`: what
//!   the live board does with what it hears;
//! - `canvas`: drawing the board; `pen`: a shape's path; `lettering`: the
//!   text on shapes; `marks`: what is drawn over it (selections, handles,
//!   others' pointers); `describe`: the canvas's text alternative;
//!   `writing_field`: the text field over a shape being written in;
//!   `announce`: others' changes, told to screen readers;
//! - `input`: pointer, keyboard and window events, as `Input`s;
//! - `saved`: what a tab keeps across a reload; `identity`: one id per tab;
//!   `recent`: the rooms this browser opened; `share_link`: view-only links;
//! - `replay`: history on the live board (a version shown, restored);
//!   `fetching`: GETs of the JSON API (history, the lobby's list);
//!   `importing`: a board file added (the Import button, or dropped on the board);
//! - `presence`: your name and person, what this tab tells the room of its
//!   pointer and selection, and who else is here.

mod announce;
mod canvas;
mod clipboard;
mod connection;
mod describe;
mod editing;
pub(crate) mod fetching;
mod identity;
mod importing;
mod input;
mod lettering;
pub(crate) mod live_board;
mod marks;
mod pen;
mod presence;
mod receiving;
pub(crate) mod recent;
pub(crate) mod replay;
mod saved;
pub(crate) mod share_link;
mod writing_field;
