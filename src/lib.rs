//! Sketchboard: a real-time multiplayer sketchboard.
//!
//! One crate, two builds. `model` and `protocol` are plain Rust shared by both;
//! `server` (and the `loadgen` that measures it) exist in the `ssr` build, `client` in both (its pages render on the
//! server and hydrate in the browser; its live parts run only in the browser).

pub mod app;
pub mod client;
#[cfg(feature = "ssr")]
pub mod loadgen;
pub mod model;
pub mod protocol;
#[cfg(feature = "ssr")]
pub mod server;

/// The WebAssembly entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
