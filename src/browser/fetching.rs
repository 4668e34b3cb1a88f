//! Plain HTTP from the page: a GET through the browser's `fetch`, for the
//! JSON API (history, the lobby's list).

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn why(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// The body of a GET, or the server's words when it refuses.
pub(crate) async fn get(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str(url)).await.map_err(why)?.dyn_into().map_err(why)?;
    let text = JsFuture::from(response.text().map_err(why)?).await.map_err(why)?.as_string().unwrap_or_default();
    if response.ok() { Ok(text) } else { Err(text) }
}
