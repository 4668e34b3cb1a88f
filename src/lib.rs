//! Sketchboard: a real-time multiplayer sketchboard.
//!
//! One crate, two builds, over the shared `sketchboard_core` (the model, the
//! protocol, the tab's session, the editor, undo), imported by its own name.
//! The folders say where their code runs:
//!
//! - `app` (the HTML shell and the routes), `pages` (each page, rendered on the
//!   server; only their islands come alive in the browser) and `board_ui` (what
//!   the live board shows outside its canvas): both builds;
//! - `browser`: the live board and its parts, in the browser alone (`hydrate`);
//! - `server` (HTTP, the room actors, storage) and `site` (the server with the
//!   pages mounted on it): the server alone (`ssr`).

// The room's view is one deep type in builds without `erase_components` (release).
#![recursion_limit = "256"]

pub mod app;
pub mod board_ui;
#[cfg(feature = "hydrate")]
mod browser;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod site;

/// The WebAssembly entry point. Islands mode: the page stays the server's
/// HTML, and only its islands (`#[island]` components) come alive, each
/// through its own exported function that Leptos's loader calls.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
