//! Asking the server for a room's view-only link (or a new one), and
//! copying links to the system clipboard.

use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use sketchboard_core::model::RoomName;

#[derive(Deserialize)]
struct Link {
    path: String,
}

fn why(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// The room's edit link and view-only link, as full URLs (the view-only link
/// made if the room has none yet); with `replace`, a new view-only link (the
/// old one stops working).
pub(crate) async fn view_link(room: &RoomName, replace: bool) -> Result<(String, String), String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = web_sys::RequestInit::new();
    init.set_method(if replace { "POST" } else { "PUT" });
    let request = window.fetch_with_str_and_init(&format!("/api/rooms/{room}/view-link"), &init);
    let response: web_sys::Response = JsFuture::from(request).await.map_err(why)?.dyn_into().map_err(why)?;
    if !response.ok() {
        return Err(format!("the server answered {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(why)?).await.map_err(why)?.as_string().unwrap_or_default();
    let link: Link = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let origin = window.location().origin().map_err(why)?;
    Ok((format!("{origin}/r/{room}"), format!("{origin}{}", link.path)))
}

/// Puts `text` on the system clipboard; false if this browser cannot or
/// will not (no permission, the page not focused).
pub(crate) async fn copy(text: &str) -> bool {
    let Some(window) = web_sys::window() else { return false };
    JsFuture::from(window.navigator().clipboard().write_text(text)).await.is_ok()
}
