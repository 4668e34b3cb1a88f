//! History on the live board: fetching a version from the server, showing
//! it on the canvas in place of the live board (nothing can be edited
//! meanwhile), and restoring it, which is an ordinary edit made of the
//! changes between the live board and that version (`changes_between`): one
//! batch (sent in parts when large), one undo step, recorded and seen
//! live like any other.

use serde::Deserialize;

use super::fetching::get;
use super::live_board::LiveBoard;
use sketchboard_core::model::{Board, RoomName, changes_between};

/// The board as it was after change `seq`, as the server answers it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Version {
    pub seq: u64,
    /// When change `seq` was recorded (ms since 1970); none for version 0.
    pub at: Option<f64>,
    /// The room's latest change, as the server knew it.
    pub head: u64,
    pub shapes: Board,
}

/// Where the JSON API answers for this room.
fn base(key: &RoomName, view: bool) -> String {
    if view { format!("/api/v/{key}") } else { format!("/api/rooms/{key}") }
}

/// Fetches version `seq` of the room `key` names (a token when `view`);
/// `None` for the latest.
pub(crate) async fn fetch(key: &RoomName, view: bool, seq: Option<u64>) -> Result<Version, String> {
    let url = match seq {
        Some(seq) => format!("{}/versions/{seq}", base(key, view)),
        None => base(key, view),
    };
    let text = get(&url).await?;
    match seq {
        Some(_) => serde_json::from_str(&text).map_err(|e| e.to_string()),
        // The room now says `seq`, not `head`: it is its own latest version.
        None => {
            #[derive(Deserialize)]
            struct Now {
                seq: u64,
                at: Option<f64>,
                shapes: Board,
            }
            let now: Now = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            Ok(Version { seq: now.seq, at: now.at, head: now.seq, shapes: now.shapes })
        }
    }
}

/// How long the versions shown must rest before the board is painted sharp.
const SHARPEN_AFTER_MS: u32 = 250;

impl LiveBoard {
    /// This board is on a history page: it is only looked at, from the start
    /// (the first version is still on its way).
    pub(crate) fn look_back(&self) {
        self.looking_back.set(true);
    }

    /// Whether a version, or a history page, is on the canvas.
    pub(super) fn looking_at_history(&self) -> bool {
        self.looking_back.get() || self.showing.borrow().is_some()
    }

    /// Shows `board` (a version) instead of the live board; `None` goes back to live.
    /// While versions follow each other (the slider moving, playing), a large
    /// board is painted rough at once and sharp once they stop for a moment.
    pub(crate) fn show_version(&self, board: Option<Board>) {
        self.editor.borrow_mut().interrupt();
        let version = board.is_some();
        *self.showing.borrow_mut() = board;
        if version {
            self.canvas.rough_next();
            let me = self.me.clone();
            // Replacing the timer cancels the one before: only a rest sharpens.
            *self.sharpen.borrow_mut() = Some(gloo_timers::callback::Timeout::new(SHARPEN_AFTER_MS, move || {
                if let Some(board) = me.upgrade() {
                    board.canvas.changed();
                    board.invalidate();
                }
            }));
        } else {
            self.canvas.changed();
        }
        self.invalidate();
    }

    /// Makes the live board look like the version shown, as one undoable
    /// edit; returns whether anything was to be done (and was sent).
    pub(crate) fn restore(&self) -> bool {
        let changes = {
            let showing = self.showing.borrow();
            let Some(target) = showing.as_ref() else { return false };
            changes_between(self.session.borrow().view(), target)
        };
        self.edit(|e, doc| e.restore(doc, changes))
    }
}

#[derive(Deserialize)]
struct Entry {
    seq: u64,
    at: Option<f64>,
    change: sketchboard_core::model::Change,
}

#[derive(Deserialize)]
struct Page {
    head: u64,
    changes: Vec<Entry>,
}

/// Up to `limit` recorded changes after `after`, with the room's head:
/// (seq, when, change) each.
pub(crate) async fn changes(
    key: &RoomName,
    view: bool,
    after: u64,
    limit: usize,
) -> Result<(u64, Vec<(u64, Option<f64>, sketchboard_core::model::Change)>), String> {
    let text = get(&format!("{}/changes?after={after}&limit={limit}", base(key, view))).await?;
    let page: Page = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    Ok((page.head, page.changes.into_iter().map(|e| (e.seq, e.at, e.change)).collect()))
}
