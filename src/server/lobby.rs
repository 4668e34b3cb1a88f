//! The lobby's room list, as the server knows it: rooms with people in them
//! now, then the other rooms changed in the last week, most recent first, and
//! no more than three of them made from any one address. With other nodes
//! the counts are every node's (`peers`): each tells its own every `HEARTBEAT`.

use super::peers::{self, HEARTBEAT, LiveRooms};
use super::registry::Registry;
use super::shutdown::Shutdown;
use super::state::AppState;
use super::storage::{StoreError, now_ms};
use sketchboard_core::lobby::LobbyRoom;

/// How many stored rooms the lobby lists.
const LISTED: usize = 100;
/// Rooms changed longer ago than this are not listed: the lobby is for what is going on.
const RECENT_MS: i64 = 7 * 24 * 3600 * 1000;
/// The most rooms made from one address the lobby lists, so no one address can fill it.
const PER_CREATOR: usize = 3;

pub(crate) async fn rooms(state: &AppState) -> Result<Vec<LobbyRoom>, StoreError> {
    let mut live = state.registry.live_rooms();
    match state.peers.live_elsewhere(now_ms()).await {
        Ok(elsewhere) => add_up(&mut live, elsewhere),
        // The stored rooms below come from the same Redis, so this is unlikely; list what this node knows.
        Err(e) => tracing::warn!(error = %e, "the lobby could not read the other nodes' counts"),
    }
    let stored = state.store.list_rooms(RECENT_MS, PER_CREATOR, LISTED).await?;
    let mut rooms: Vec<LobbyRoom> = stored
        .into_iter()
        .map(|r| match live.remove(&r.name) {
            // A running room's own counts are the latest.
            Some((members, shapes)) => LobbyRoom { name: r.name, shapes: u64::from(shapes), members },
            None => r,
        })
        .collect();
    // Occupied rooms the list did not reach (new ones, or ones past it) are listed too.
    let occupied = live.into_iter().filter(|(_, (members, _))| *members > 0);
    rooms.extend(occupied.map(|(name, (members, shapes))| LobbyRoom { name, shapes: u64::from(shapes), members }));
    // Occupied first; the sort is stable, so each group keeps its recency order.
    rooms.sort_by_key(|r| r.members == 0);
    Ok(rooms)
}

/// Adds other nodes' counts to this node's: people add up; a room's shapes
/// are this node's count where it has the room loaded (the latest it knows).
fn add_up(live: &mut LiveRooms, elsewhere: LiveRooms) {
    for (room, (members, shapes)) in elsewhere {
        let here = live.entry(room).or_insert((0, shapes));
        here.0 = here.0.saturating_add(members);
    }
}

/// With other nodes: tells them this node's live counts every `HEARTBEAT`
/// until shutdown, then takes them back.
pub(crate) async fn heartbeat(peers: peers::Shared, registry: Registry, shutdown: Shutdown) {
    let mut every = tokio::time::interval(HEARTBEAT);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = shutdown.wait() => break,
        }
        if let Err(e) = peers.publish_live(now_ms(), &registry.live_rooms()).await {
            // The next beat tries again; until then other nodes' lobbies count this node's rooms as they were.
            tracing::debug!(error = %e, "could not publish this node's live rooms");
        }
    }
    if let Err(e) = peers.retire_node().await {
        tracing::warn!(error = %e, "could not take this node's live rooms out of the lobby");
    }
}
