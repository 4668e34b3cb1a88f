//! The read-only JSON API for scripts and for the history page: a room now
//! (`GET /api/rooms/{room}`), its recorded changes with their times
//! (`…/changes?after=N&limit=M`), and the board as it was after any change
//! (`…/versions/{seq}`). The same answers for a view-only token under
//! `/api/v/{token}`, which never reveal the room's name. Every answer comes
//! from storage: what it shows is recorded, never merely proposed.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::fairness::Network;
use super::state::AppState;
use super::storage::Logged;
use sketchboard_core::model::{Board, Change, RoomName};

/// The most changes one page of `…/changes` holds, and how many it holds unless asked.
pub(super) const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 100;

/// How a request names its room: by name (which is its edit link) or by
/// view-only token, from an address (links that open nothing are counted).
#[derive(Clone, Copy)]
pub(super) enum By {
    Name,
    Token(Network),
}

/// The room `key` names, or the answer saying why not.
pub(super) async fn resolve(state: &AppState, key: String, by: By) -> Result<RoomName, Response> {
    match by {
        By::Name => RoomName::parse(key)
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("invalid room name: {e}")).into_response()),
        By::Token(from) => match super::sharing::room_for(state, &key, from).await? {
            Some(room) => Ok(room),
            None => Err((StatusCode::NOT_FOUND, "this view-only link does not open any room").into_response()),
        },
    }
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "storage unavailable for a read");
    (StatusCode::SERVICE_UNAVAILABLE, "storage is unavailable right now").into_response()
}

/// `GET /api/lobby`: the rooms the lobby lists (`lobby::rooms`), which its
/// page refreshes itself from.
pub(super) async fn lobby(state: AppState) -> Response {
    match super::lobby::rooms(&state).await {
        Ok(rooms) => Json(rooms).into_response(),
        Err(e) => unavailable(e),
    }
}

#[derive(Serialize)]
struct RoomNow {
    /// The latest recorded change's number (0: none yet).
    seq: u64,
    /// When that change was recorded (ms since 1970; null for none, or before times were kept).
    at: Option<i64>,
    /// Which incarnation of the room (see docs/protocol.md); 0 before its first change.
    epoch: u64,
    /// People connected now (one person's several tabs count once).
    people: usize,
    /// Several nodes: the node that owns the room, for operators (null with
    /// one node, or before any node claimed it).
    owner: Option<OwnerNow>,
    shapes: Board,
}

/// A room's owner as the API shows it: the node's name (as its log says at
/// start), the lease's epoch, and whether the lease still runs.
#[derive(Serialize)]
struct OwnerNow {
    node: String,
    epoch: u64,
    live: bool,
}

/// `GET /api/rooms/{room}` (and by token): the room as recorded now.
pub(super) async fn room(state: AppState, key: String, by: By) -> Response {
    let room = match resolve(&state, key, by).await {
        Ok(room) => room,
        Err(response) => return response,
    };
    let loaded = match state.store.load_room(&room).await {
        Ok(loaded) => loaded,
        Err(e) => return unavailable(e),
    };
    let at = match loaded.seq {
        0 => None,
        seq => match state.store.changes(&room, seq - 1, 1).await {
            Ok(latest) => latest.first().and_then(|l| l.at_ms),
            Err(e) => return unavailable(e),
        },
    };
    let owner = match state.store.owner(&room).await {
        Ok(owner) => owner.map(|o| OwnerNow { node: o.node.name, epoch: o.epoch, live: o.live }),
        Err(e) => return unavailable(e),
    };
    Json(RoomNow {
        owner,
        seq: loaded.seq,
        at,
        epoch: loaded.epoch.unwrap_or(0),
        people: state.registry.people(&room),
        shapes: loaded.board,
    })
    .into_response()
}

#[derive(Deserialize)]
pub(super) struct Page {
    after: Option<u64>,
    limit: Option<usize>,
}

#[derive(Serialize)]
struct Entry {
    seq: u64,
    /// When it was recorded: ms since 1970, server time (null: before times were kept).
    at: Option<i64>,
    change: Change,
}

impl From<Logged> for Entry {
    fn from(l: Logged) -> Entry {
        Entry { seq: l.seq, at: l.at_ms, change: l.change }
    }
}

#[derive(Serialize)]
struct ChangesPage {
    /// The room's latest change: the page is the last one when its final `seq` is this.
    head: u64,
    changes: Vec<Entry>,
}

/// `GET …/changes?after=N&limit=M`: a page of the recorded log.
pub(super) async fn changes(state: AppState, key: String, by: By, page: Page) -> Response {
    let limit = page.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return (StatusCode::BAD_REQUEST, format!("limit must be from 1 to {MAX_PAGE}")).into_response();
    }
    let room = match resolve(&state, key, by).await {
        Ok(room) => room,
        Err(response) => return response,
    };
    let after = page.after.unwrap_or(0);
    let (head, changes) = match (state.store.head(&room).await, state.store.changes(&room, after, limit).await) {
        (Ok(head), Ok(changes)) => (head.seq, changes),
        (Err(e), _) | (_, Err(e)) => return unavailable(e),
    };
    Json(ChangesPage { head, changes: changes.into_iter().map(Entry::from).collect() }).into_response()
}

#[derive(Serialize)]
struct VersionNow {
    seq: u64,
    /// When change `seq` was recorded (ms since 1970; null for 0 or unknown).
    at: Option<i64>,
    /// The room's latest change, so a slider knows its end.
    head: u64,
    shapes: Board,
}

/// `GET …/versions/{seq}`: the board as it was after change `seq`.
pub(super) async fn version(state: AppState, key: String, by: By, seq: u64) -> Response {
    let room = match resolve(&state, key, by).await {
        Ok(room) => room,
        Err(response) => return response,
    };
    let (head, version) = match (state.store.head(&room).await, state.store.version(&room, seq).await) {
        (Ok(head), Ok(version)) => (head.seq, version),
        (Err(e), _) | (_, Err(e)) => return unavailable(e),
    };
    match version {
        Some(v) => Json(VersionNow { seq: v.seq, at: v.at_ms, head, shapes: v.board }).into_response(),
        None if seq > head => {
            (StatusCode::NOT_FOUND, format!("this room has no version {seq}: its latest is {head}")).into_response()
        }
        None => (StatusCode::GONE, format!("version {seq} is no longer kept (an older build trimmed this room's log)"))
            .into_response(),
    }
}
