//! The lobby's room list, as the server knows it: rooms with people in them
//! now, then the other rooms changed in the last week, most recent first, and
//! no more than three of them made from any one address.

use super::state::AppState;
use super::storage::StoreError;
use crate::model::RoomName;

/// How many stored rooms the lobby lists.
const LISTED: usize = 100;
/// Rooms changed longer ago than this are not listed: the lobby is for what is going on.
const RECENT_MS: i64 = 7 * 24 * 3600 * 1000;
/// The most rooms made from one address the lobby lists, so no one address can fill it.
const PER_CREATOR: usize = 3;

/// One line of the lobby.
pub struct Listing {
    pub name: RoomName,
    pub shapes: u64,
    pub members: u32,
}

pub async fn rooms(state: &AppState) -> Result<Vec<Listing>, StoreError> {
    let mut live = state.registry.live_rooms();
    let stored = state.store.list_rooms(RECENT_MS, PER_CREATOR, LISTED).await?;
    let mut rooms: Vec<Listing> = stored
        .into_iter()
        .map(|r| match live.remove(&r.name) {
            // A running room's own counts are the latest.
            Some((members, shapes)) => Listing { name: r.name, shapes: u64::from(shapes), members },
            None => Listing { name: r.name, shapes: r.shapes, members: 0 },
        })
        .collect();
    // Occupied rooms the list did not reach (new ones, or ones past it) are listed too.
    let occupied = live.into_iter().filter(|(_, (members, _))| *members > 0);
    rooms.extend(occupied.map(|(name, (members, shapes))| Listing { name, shapes: u64::from(shapes), members }));
    // Occupied first; the sort is stable, so each group keeps its recency order.
    rooms.sort_by_key(|r| r.members == 0);
    Ok(rooms)
}
