//! Changes too large for one message (a board-sized import, a restore): how
//! a batch is cut into `part` messages on its way to the server, and into
//! `applied_part` messages on its way back (`docs/protocol.md`).

use super::{ClientMsg, MAX_MESSAGE_BYTES};
use crate::model::Change;

/// A batch's changes cut into runs that each fit one message of at most
/// `MAX_MESSAGE_BYTES` with its envelope (`part` or `applied_part`), in order.
pub fn in_parts(changes: &[Change]) -> Vec<&[Change]> {
    // Room for the envelope (`{"type":"applied_part","seq":…,"by":…}`) and the commas.
    const ROOM: usize = MAX_MESSAGE_BYTES - 256;
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
        if whole.to_json().len() <= MAX_MESSAGE_BYTES {
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
