//! One component per page.

mod history;
mod lobby;
mod message;
mod not_found;
mod picture;
mod room;
mod share;
mod tools;
mod view;

pub use lobby::LobbyPage;
pub use not_found::NotFound;
pub use room::RoomPage;
pub use view::ViewPage;
