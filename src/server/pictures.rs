//! The board as an image or a file: `GET /r/{room}.svg`, `.png` and `.json`,
//! and the same under `/v/{token}` for view-only links. The SVG is
//! `picture::svg`, the very markup the room page shows before (or without)
//! JavaScript; the PNG is the same outlines rasterised here with tiny-skia,
//! for link previews (Open Graph) and, at `?scale=2`, for Export PNG; the
//! JSON is the board file (`format`, docs/format.md). All show the board as recorded. A PNG costs CPU, so at most
//! half the cores draw at a time, on blocking threads, and at most
//! `RENDERS_WAITING` requests wait for a turn (the rest get 503 with
//! `Retry-After`); a board holds at most `MAX_SHAPES` shapes, which bounds
//! each one's time (docs/benchmarks.md).

use std::sync::LazyLock;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tiny_skia::{Color as SkColor, FillRule, Paint, PathBuilder, Pixmap, Rect, Stroke, Transform};

use super::api::{By, resolve, unavailable};
use super::client_addr::ClientAddr;
use super::painter::Painter;
use super::state::AppState;
use sketchboard_core::model::{BOARD_HEIGHT, BOARD_WIDTH, Board, Shape};
use sketchboard_core::occlusion::visible;
use sketchboard_core::picture::{BACKGROUND, GRID, OUTLINE_WIDTH, Outline, grid_lines, svg, svg_of};

/// Board units a pixel of the room page's inline picture may cover, for
/// `occlusion`: exact down to 800 pixels for the sheet's width.
const PAGE_PIXEL: f64 = 2.0;

/// The PNG's size: 1200 × 750, what link previews show well (`?scale=2`: 3200 × 2000, for export).
pub(super) const PNG_SCALE: f32 = 0.75;

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
    let loaded = match state.store.load_room(&room).await {
        Ok(loaded) => loaded,
        Err(e) => return unavailable(e),
    };
    let scale = if request.uri().query() == Some("scale=2") { 2.0 } else { PNG_SCALE };
    let (body, content_type) = match format {
        Format::Svg => (Bytes::from(svg(&loaded.board)), "image/svg+xml"),
        Format::Json => (Bytes::from(sketchboard_core::format::write(&loaded.board)), "application/json"),
        Format::Png => {
            let key = (room, loaded.epoch.unwrap_or(0), loaded.seq, scale.to_bits());
            match drawn(&key) {
                Some(png) => (png, "image/png"),
                None => match render(&state.painter, key, loaded.board, scale).await {
                    Ok(png) => (png, "image/png"),
                    Err(response) => return response,
                },
            }
        }
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

/// A room's version (epoch, seq) at a scale: what a PNG shows.
type Drawn = (sketchboard_core::model::RoomName, u64, u64, u32);

/// The last few PNGs drawn: a link shared in a busy chat is fetched by every
/// preview bot at once, and a board that did not change is not drawn again.
static DRAWN: LazyLock<std::sync::Mutex<std::collections::VecDeque<(Drawn, Bytes)>>> = LazyLock::new(Default::default);
const DRAWN_KEPT: usize = 8;

fn drawn(key: &Drawn) -> Option<Bytes> {
    let kept = DRAWN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    kept.iter().find(|(k, _)| k == key).map(|(_, png)| png.clone())
}

fn keep(key: Drawn, png: Bytes) -> Bytes {
    let mut kept = DRAWN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if kept.len() == DRAWN_KEPT {
        kept.pop_front();
    }
    kept.push_back((key, png.clone()));
    png
}

/// Draws the PNG for `key` in its turn: a bounded number wait, each for a
/// bounded time, and whoever waited for a picture someone else was drawing
/// takes that one.
async fn render(painter: &Painter, key: Drawn, board: Board, scale: f32) -> Result<Bytes, Response> {
    let busy = || {
        let mut busy =
            (StatusCode::SERVICE_UNAVAILABLE, "too many pictures are being drawn: try again").into_response();
        busy.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        busy
    };
    let Some(_turn) = painter.turn().await else { return Err(busy()) };
    if let Some(png) = drawn(&key) {
        return Ok(png);
    }
    let png = tokio::task::spawn_blocking(move || png(&board, scale))
        .await
        .map_err(|e| unavailable(format!("drawing a picture stopped: {e}")))?
        .ok_or_else(|| unavailable("a picture could not be drawn"))?;
    Ok(keep(key, Bytes::from(png)))
}

fn hex(color: &str) -> SkColor {
    let channel = |i: usize| color.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0);
    SkColor::from_rgba8(channel(1), channel(3), channel(5), 255)
}

fn paint(color: &str) -> Paint<'static> {
    let mut paint = Paint::default();
    paint.set_color(hex(color));
    paint.anti_alias = true;
    paint
}

/// The board as PNG bytes, `scale` device pixels per board unit. Only the
/// shapes that can be seen are painted (`occlusion`): the same picture, in a
/// fraction of the time on a crowded board.
pub(super) fn png(board: &Board, scale: f32) -> Option<Vec<u8>> {
    let shown = visible(board.shapes(), 1.0 / f64::from(scale));
    draw(shown.into_iter(), scale)?.encode_png().ok()
}

/// `shapes`, bottom first, on the sheet and its grid.
fn draw<'a>(shapes: impl Iterator<Item = &'a Shape>, scale: f32) -> Option<Pixmap> {
    let (w, h) = ((BOARD_WIDTH as f32 * scale).round() as u32, (BOARD_HEIGHT as f32 * scale).round() as u32);
    let mut pixmap = Pixmap::new(w, h)?;
    pixmap.fill(hex(BACKGROUND));
    let at = Transform::from_scale(scale, scale);
    let mut grid = PathBuilder::new();
    for [(x0, y0), (x1, y1)] in grid_lines() {
        grid.move_to(x0 as f32, y0 as f32);
        grid.line_to(x1 as f32, y1 as f32);
    }
    let thin = Stroke { width: 1.0, ..Stroke::default() };
    pixmap.stroke_path(&grid.finish()?, &paint(GRID), &thin, at, None);
    let outline = Stroke { width: OUTLINE_WIDTH as f32, ..Stroke::default() };
    for shape in shapes {
        let path = match Outline::of(shape) {
            Outline::Rect { x, y, w, h } => {
                PathBuilder::from_rect(Rect::from_xywh(x as f32, y as f32, w as f32, h as f32)?)
            }
            Outline::Triangle([a, b, c]) => {
                let mut p = PathBuilder::new();
                p.move_to(a.0 as f32, a.1 as f32);
                p.line_to(b.0 as f32, b.1 as f32);
                p.line_to(c.0 as f32, c.1 as f32);
                p.close();
                p.finish()?
            }
            Outline::Ellipse { cx, cy, rx, ry } => {
                let oval = Rect::from_ltrb((cx - rx) as f32, (cy - ry) as f32, (cx + rx) as f32, (cy + ry) as f32)?;
                PathBuilder::from_oval(oval)?
            }
        };
        let (fill, stroke) = shape.fill().paint();
        pixmap.fill_path(&path, &paint(fill), FillRule::Winding, at, None);
        pixmap.stroke_path(&path, &paint(stroke), &outline, at, None);
    }
    Some(pixmap)
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

    /// A board as crowded as people make them: `n` shapes of every kind and
    /// colour, anywhere on the sheet, some on exactly the same spot.
    fn crowded(n: usize, seed: u64) -> Board {
        use rand::{Rng, SeedableRng, rngs::StdRng};
        use sketchboard_core::model::{Change, Color, ShapeId, ShapeKind, clamp_to_board};
        let mut rng = StdRng::seed_from_u64(seed);
        let mut board = Board::new();
        let kinds = [ShapeKind::Rectangle, ShapeKind::Circle, ShapeKind::Triangle];
        for i in 0..n {
            let kind = kinds[rng.random_range(0..3)];
            let (x, y) = if i % 50 == 49 {
                (400.0, 300.0)
            } else {
                (rng.random_range(-50.0..BOARD_WIDTH), rng.random_range(-50.0..BOARD_HEIGHT))
            };
            let (x, y) = clamp_to_board(kind, x, y);
            let Ok(id) = ShapeId::parse(format!("s{i}")) else { continue };
            let shape = Shape::new(id.clone(), kind, x, y);
            let color = Color::ALL[rng.random_range(0..Color::ALL.len())];
            let done = board.apply(&Change::Create { shape }).and_then(|_| board.apply(&Change::Color { id, color }));
            assert!(done.is_ok());
        }
        board
    }

    #[test]
    fn painting_only_what_can_be_seen_paints_the_same_pixels() {
        for (n, seed) in [(40, 1), (400, 2), (3_000, 3)] {
            let board = crowded(n, seed);
            for scale in [0.25, 0.5, 0.75, 1.0, 1.5, 2.0] {
                let shown = visible(board.shapes(), 1.0 / f64::from(scale));
                let all = draw(board.shapes(), scale).map(|p| p.take());
                let some = draw(shown.iter().copied(), scale).map(|p| p.take());
                assert!(all.is_some());
                assert!(all == some, "{n} shapes at {scale}: {} painted of {n}, and the pixels differ", shown.len());
            }
        }
    }

    #[test]
    fn most_of_a_full_board_is_hidden() {
        let board = crowded(sketchboard_core::model::MAX_SHAPES, 4);
        let shown = visible(board.shapes(), 1.0 / f64::from(PNG_SCALE));
        assert!(shown.len() < board.len() * 2 / 5, "{} of {} painted", shown.len(), board.len());
    }
}
