//! "Your recent rooms": the rooms this browser opened, newest first, kept in
//! its `localStorage` only (the server never lists private rooms, so this is
//! how their makers find them again).

use serde::{Deserialize, Serialize};

const KEY: &str = "sketchboard-recent";
const KEPT: usize = 10;

/// One room this browser opened.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Recent {
    /// `/r/{room}` or `/v/{token}`.
    pub path: String,
    pub label: String,
}

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The rooms this browser opened, newest first.
pub(crate) fn list() -> Vec<Recent> {
    let text = local().and_then(|s| s.get_item(KEY).ok().flatten());
    text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

/// Notes that this browser opened `path`.
pub(crate) fn remember(path: String, label: String) {
    let mut list = list();
    list.retain(|r| r.path != path);
    list.insert(0, Recent { path, label });
    list.truncate(KEPT);
    if let (Some(storage), Ok(text)) = (local(), serde_json::to_string(&list)) {
        let _ = storage.set_item(KEY, &text);
    }
}
