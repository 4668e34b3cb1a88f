//! What the pages rendered on the server may ask of it, and no more: the
//! lobby's room list and a room's board as a picture. The pages are given a
//! `PageData` as context (the site mounts them with it), never the server's
//! whole state.

use axum::http::request::Parts;

use super::state::AppState;
use super::storage::StoreError;
use super::{lobby, pictures};
use sketchboard_core::lobby::LobbyRoom;

#[derive(Clone)]
pub struct PageData {
    state: AppState,
}

impl PageData {
    pub(crate) fn new(state: AppState) -> PageData {
        PageData { state }
    }

    /// The lobby's rooms: those with people in them now, then the recently changed ones.
    pub async fn rooms(&self) -> Result<Vec<LobbyRoom>, StoreError> {
        lobby::rooms(&self.state).await
    }

    /// The board of the room `key` names (a view-only token when `view`), as
    /// inline SVG, and the address of its PNG for link previews (from the
    /// `request`'s headers, empty if unknown). `Ok(None)` if it opens no room;
    /// `Err` if the store cannot say (or the requester tried too many links
    /// that open nothing).
    pub async fn picture(&self, key: String, view: bool, request: &Parts) -> Result<Option<(String, String)>, ()> {
        pictures::for_page(&self.state, key, view, request).await
    }
}
