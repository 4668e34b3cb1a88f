//! One component per page.

mod lobby;
mod message;
mod not_found;
mod room;

pub use lobby::{LobbyPage, RoomInfo, list_rooms};
pub use not_found::NotFound;
pub use room::RoomPage;
