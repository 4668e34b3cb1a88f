//! The board as an image or a file: `GET /r/{room}.svg`, `.png` and `.json`,
//! and the same under `/v/{token}` for view-only links. The SVG is
//! `picture::svg`, the very markup the room page shows before (or without)
//! JavaScript; the PNG is the same outlines rasterised (`raster`), with the text
//! drawn in the font the project ships (`glyphs`); the JSON
//! is the board file (`format`, docs/format.md). All show the board as
//! recorded. Each is drawn in a turn (`server::painter`): the room's head is read
//! first (cheap), a picture of that state drawn lately is served again, and
//! only a request with a turn loads the board.

mod glyphs;
mod raster;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::api::{By, resolve, unavailable};
use super::client_addr::ClientAddr;
use super::painter::{Key, NotDrawn, What};
use super::state::AppState;
use raster::PNG_SCALE;
use sketchboard_core::occlusion::visible;
use sketchboard_core::picture::{svg, svg_of};

/// Board units a pixel of the room page's inline picture may cover, for
/// `occlusion`: exact down to 800 pixels for the sheet's width.
const PAGE_PIXEL: f64 = 2.0;

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Svg,
    Png,
    Json,
}

/// Answers `/r/{room}.svg` and friends before the pages see them (a room
/// name never holds a dot, so no room page is shadowed).
pub(super) async fn serve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some((key, token, format)) = picture_path(request.uri().path()) else {
        return next.run(request).await;
    };
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return next.run(request).await;
    }
    let by =
        if token { By::Token(ClientAddr::of(request.extensions(), request.headers(), &state).0) } else { By::Name };
    let room = match resolve(&state, key, by).await {
        Ok(room) => room,
        Err(response) => return response,
    };
    let head = match state.store.head(&room).await {
        Ok(head) => head,
        Err(e) => return unavailable(e),
    };
    let scale = if request.uri().query() == Some("scale=2") { 2.0 } else { PNG_SCALE };
    let (what, content_type) = match format {
        Format::Svg => (What::Svg, "image/svg+xml"),
        Format::Png => (What::Png(scale.to_bits()), "image/png"),
        Format::Json => (What::Json, "application/json"),
    };
    let key = Key { room: room.clone(), head, what };
    let store = state.store.clone();
    let draw = || async move {
        let loaded = store.load_room(&room).await.map_err(|e| {
            tracing::error!(error = %e, %room, "a room could not be read for its picture");
            e.to_string()
        })?;
        let shown = super::storage::Head { seq: loaded.seq, epoch: loaded.epoch.unwrap_or(0) };
        let board = loaded.board;
        // Off the async threads: a full board takes milliseconds to write out, more to rasterise.
        let drawn = tokio::task::spawn_blocking(move || match what {
            What::Svg => Some(svg(&board).into_bytes()),
            What::Json => Some(sketchboard_core::format::write(&board).into_bytes()),
            What::Png(_) => raster::png(&board, scale),
        })
        .await
        .map_err(|e| format!("drawing a picture stopped: {e}"))?
        .ok_or_else(|| "a picture could not be drawn".to_owned())?;
        Ok((shown, Bytes::from(drawn)))
    };
    let body = match state.painter.picture(key, draw).await {
        Ok(body) => body,
        Err(NotDrawn::Busy) => {
            let mut busy =
                (StatusCode::SERVICE_UNAVAILABLE, "too many pictures are being drawn: try again").into_response();
            busy.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            return busy;
        }
        Err(NotDrawn::Failed(why)) => return unavailable(why),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The board changes at any moment: always ask again.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The board for a page: its SVG, and the absolute address of its PNG (for
/// link previews; empty if unknown). `Ok(None)` when `key` opens no room.
pub(super) async fn for_page(
    state: &AppState,
    key: String,
    view: bool,
    request: &axum::http::request::Parts,
) -> Result<Option<(String, String)>, ()> {
    let headers = &request.headers;
    let by = if view { By::Token(ClientAddr::of(&request.extensions, headers, state).0) } else { By::Name };
    let image = state.origins.origin_of(headers).map(|o| format!("{o}/{}/{key}.png", if view { "v" } else { "r" }));
    let room = match resolve(state, key, by).await {
        Ok(room) => room,
        Err(response) if response.status() == StatusCode::NOT_FOUND => return Ok(None),
        Err(_) => return Err(()),
    };
    match state.store.load_room(&room).await {
        Ok(loaded) => {
            // Shown at least half size (a phone's width): what no pixel of it shows is left out.
            let board = &loaded.board;
            let picture = svg_of(board.len(), visible(board.shapes(), PAGE_PIXEL).into_iter());
            Ok(Some((picture, image.unwrap_or_default())))
        }
        Err(e) => {
            tracing::error!(error = %e, "a page's board could not be read");
            Err(())
        }
    }
}

/// The room's key, whether it is a view-only token, and the format a path asks for.
fn picture_path(path: &str) -> Option<(String, bool, Format)> {
    let (token, rest) =
        if let Some(rest) = path.strip_prefix("/r/") { (false, rest) } else { (true, path.strip_prefix("/v/")?) };
    let (key, format) = if let Some(key) = rest.strip_suffix(".svg") {
        (key, Format::Svg)
    } else if let Some(key) = rest.strip_suffix(".json") {
        (key, Format::Json)
    } else {
        (rest.strip_suffix(".png")?, Format::Png)
    };
    (!key.contains('/')).then(|| (key.to_owned(), token, format))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_picture_paths_are_taken() {
        let taken = |p: &str| picture_path(p).map(|(k, _, f)| (k, f == Format::Png));
        assert_eq!(taken("/r/lobby.svg"), Some(("lobby".into(), false)));
        assert_eq!(taken("/v/abc.png"), Some(("abc".into(), true)));
        assert_eq!(taken("/r/lobby"), None);
        assert_eq!(taken("/r/a/b.svg"), None);
        assert_eq!(taken("/pkg/x.png"), None);
    }
}
