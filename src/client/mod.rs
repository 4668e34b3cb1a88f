//! The browser side. `pages` render on the server and hydrate in the browser;
//! the live board (its connection, canvas and input) runs only in the browser.

pub mod pages;

#[cfg(feature = "hydrate")]
mod canvas;
#[cfg(feature = "hydrate")]
mod connection;
#[cfg(feature = "hydrate")]
mod describe;
#[cfg(feature = "hydrate")]
mod identity;
#[cfg(feature = "hydrate")]
mod input;
#[cfg(feature = "hydrate")]
pub mod live_board;
#[cfg(feature = "hydrate")]
mod saved;
