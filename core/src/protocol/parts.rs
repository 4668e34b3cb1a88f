//! Changes too large for one message (a board-sized import, a restore): how
//! a batch is cut into `part` messages on its way to the server, and into
//! `applied_part` messages on its way back (`docs/protocol.md`).

use super::limits::{MAX_MESSAGE_BYTES, MAX_PARTS};
use super::messages::ClientMsg;
use crate::model::Change;

/// No single change (not a batch) but those with text (`Change::may_be_long`)
/// encodes to more than this many bytes: a create with the longest id, long
/// coordinates and sizes, a turn, a colour and the farthest layer. Changes
/// with text are measured.
pub const LONGEST_CHANGE: usize = 384;

/// Room in one message for changes, past the envelope (`{"type":"applied_part","seq":…,"by":…}`).
const ROOM: usize = MAX_MESSAGE_BYTES - 256;

/// A batch of at most this many changes always fits one message: it is sent
/// without measuring it (a drag of a selection sends one every frame).
const ALWAYS_ONE_MESSAGE: usize = ROOM / (LONGEST_CHANGE + 1);

/// A batch of at most this many changes always fits `MAX_PARTS` messages.
pub const ALWAYS_FITS_PARTS: usize = MAX_PARTS as usize * ALWAYS_ONE_MESSAGE;

/// A batch's changes cut into runs that each fit one message of at most
/// `MAX_MESSAGE_BYTES` with its envelope (`part` or `applied_part`), in order.
pub fn in_parts(changes: &[Change]) -> Vec<&[Change]> {
    let mut parts = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, change) in changes.iter().enumerate() {
        let len = serde_json::to_string(change).map_or(0, |t| t.len()) + 1;
        if bytes + len > ROOM && i > start {
            parts.push(&changes[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += len;
    }
    parts.push(&changes[start..]);
    parts
}

impl ClientMsg {
    /// What sends change `op`: one `change` message, or for a batch larger
    /// than a message may be, its `part` messages, each within the limit.
    pub fn for_change(op: u64, change: Change) -> Vec<ClientMsg> {
        let whole = ClientMsg::Change { op, change };
        let ClientMsg::Change { change: Change::Batch { changes }, .. } = &whole else { return vec![whole] };
        let short = changes.len() <= ALWAYS_ONE_MESSAGE && !changes.iter().any(Change::may_be_long);
        if short || whole.to_json().len() <= MAX_MESSAGE_BYTES {
            return vec![whole];
        }
        let split = in_parts(changes);
        let parts = split.len() as u32;
        split
            .into_iter()
            .zip(0..)
            .map(|(changes, part)| ClientMsg::Part { op, part, parts, changes: changes.to_vec() })
            .collect()
    }
}
