//! Sketchboard: a real-time multiplayer sketchboard.
//!
//! One crate, two builds. The shared model, protocol, client session and
//! editor live in `sketchboard-core` (re-exported here as `model`, `protocol`,
//! `session`, `editor`…); `server` exists in the `ssr` build, `client` in both (its pages
//! render on the server and hydrate in the browser; its live parts run only in
//! the browser).

// The room's view is one deep type in builds without `erase_components` (release).
#![recursion_limit = "256"]

pub mod app;
pub mod client;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod site;

pub use sketchboard_core::{
    editor, format, history, lobby, model, occlusion, picture, presence, protocol, roster, session, viewport,
};

/// The WebAssembly entry point. Islands mode: the page stays the server's
/// HTML, and only its islands (`#[island]` components) come alive, each
/// through its own exported function that Leptos's loader calls.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
