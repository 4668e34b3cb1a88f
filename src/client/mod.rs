//! The browser side. `pages` render on the server and hydrate in the browser;
//! `board_ui` holds what the live board shows outside its canvas, for both.
//! The live board and its parts run only in the browser:
//!
//! - `live_board`: wires the parts together; holds the shared `Editor` (the
//!   selection, gestures and undo history; the editing rules are in
//!   `core/src/editor`); `editing`: each input and toolbar command handed to
//!   the editor, its changes through the session; `clipboard`: copy and
//!   paste's `localStorage`;
//! - `connection`: the WebSocket, reconnecting with backoff; `receiving`: what
//!   the live board does with what it hears;
//! - `canvas`: drawing; `describe`: the canvas's text alternative;
//!   `announce`: others' changes, told to screen readers;
//! - `input`: pointer, keyboard and window events, as `Input`s;
//! - `saved`: what a tab keeps across a reload; `identity`: one id per tab;
//!   `recent`: the rooms this browser opened; `share_link`: view-only links;
//! - `replay`: history on the live board (a version shown, restored);
//!   `importing`: a board file added (the Import button, or dropped on the board);
//! - `presence`: your name and person, what this tab tells the room of its
//!   pointer and selection, and who else is here.

pub mod board_ui;
pub mod pages;

#[cfg(feature = "hydrate")]
mod announce;
#[cfg(feature = "hydrate")]
mod canvas;
#[cfg(feature = "hydrate")]
mod clipboard;
#[cfg(feature = "hydrate")]
mod connection;
#[cfg(feature = "hydrate")]
mod describe;
#[cfg(feature = "hydrate")]
mod editing;
#[cfg(feature = "hydrate")]
mod identity;
#[cfg(feature = "hydrate")]
mod importing;
#[cfg(feature = "hydrate")]
mod input;
#[cfg(feature = "hydrate")]
pub mod live_board;
#[cfg(feature = "hydrate")]
mod pen;
#[cfg(feature = "hydrate")]
mod presence;
#[cfg(feature = "hydrate")]
mod receiving;
#[cfg(feature = "hydrate")]
pub mod recent;
#[cfg(feature = "hydrate")]
pub mod replay;
#[cfg(feature = "hydrate")]
mod saved;
#[cfg(feature = "hydrate")]
mod share_link;
