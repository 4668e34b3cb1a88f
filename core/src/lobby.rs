//! One line of the lobby's room list: what the server's stores list, what the
//! lobby adds the people in each room to, and what the lobby page shows (it
//! travels as JSON from the server function to the page's island).

use serde::{Deserialize, Serialize};

use crate::model::RoomName;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LobbyRoom {
    pub name: RoomName,
    /// Shapes on its board.
    pub shapes: u64,
    /// People in it now (0 as stored: the stores do not know).
    pub members: u32,
}
