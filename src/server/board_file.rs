//! `POST /api/board-file`: a board file (`docs/format.md`) read and checked
//! for the page's Import. The page sends the file as it is; the answer is its
//! shapes as they would land on an empty board (`format::parse`: clamped onto
//! the sheet, their own layers), or what is wrong with it. It touches no room:
//! the page adds the shapes as its own change, so importing stays one step it
//! can undo. Reading files here keeps the reader and its messages out of the
//! browser's bundle.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use sketchboard_core::format;

pub(super) async fn read(body: String) -> Response {
    match format::parse(&body) {
        Ok(shapes) => Json(json!({ "shapes": shapes })).into_response(),
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "error": e.to_string() }))).into_response(),
    }
}
