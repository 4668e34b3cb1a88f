//! The lobby's room list, as the server knows it: rooms with people in them
//! now, then the other most recently changed ones.

use super::state::AppState;
use super::storage::StoreError;
use crate::model::RoomName;

/// How many stored rooms the lobby lists.
const LISTED: usize = 100;

/// One line of the lobby.
pub struct Listing {
    pub name: RoomName,
    pub shapes: u64,
    pub members: u32,
}

pub async fn rooms(state: &AppState) -> Result<Vec<Listing>, StoreError> {
    let mut live = state.registry.members_by_room();
    let stored = state.store.list_rooms(LISTED).await?;
    let mut rooms: Vec<Listing> = stored
        .into_iter()
        .map(|r| Listing { members: live.remove(&r.name).unwrap_or(0), name: r.name, shapes: r.shapes })
        .collect();
    // Occupied rooms that have recorded nothing yet are listed too.
    rooms.extend(live.into_iter().filter(|(_, members)| *members > 0).map(|(name, members)| Listing {
        name,
        shapes: 0,
        members,
    }));
    // Occupied first; the sort is stable, so each group keeps its recency order.
    rooms.sort_by_key(|r| r.members == 0);
    Ok(rooms)
}
