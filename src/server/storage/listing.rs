//! Which stored rooms the lobby lists, whichever store they come from: the
//! latest first, and no more than a few from any one address, so that one
//! address cannot fill the lobby.

use super::LobbyRoom;
use sketchboard_core::model::RoomName;
use std::collections::HashMap;

/// From `rows` (name, shape count, creator), latest first: at most
/// `per_creator` rooms of one creator, `limit` in all.
pub(super) fn pick_listed(
    rows: impl IntoIterator<Item = (String, u64, String)>,
    per_creator: usize,
    limit: usize,
) -> Vec<LobbyRoom> {
    let mut per: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (name, shapes, creator) in rows {
        if out.len() == limit {
            break;
        }
        let made = per.entry(creator.clone()).or_default();
        // Rooms from before creators were recorded have none: not one creator.
        if !creator.is_empty() && *made >= per_creator {
            continue;
        }
        *made += 1;
        // Names were validated before they were stored; skip any that were not.
        if let Ok(name) = RoomName::parse(name) {
            out.push(LobbyRoom { name, shapes, members: 0 });
        }
    }
    out
}
