//! A recorded change as members are sent it: the author's copy (its `op`:
//! the confirmation) and everyone else's (its author's person number), one
//! `applied` each, or for a batch too large for one message the same run of
//! `applied_part`s for both.

use crate::server::frame::{Frame, frame};
use crate::server::storage::Record;
use sketchboard_core::model::Change;
use sketchboard_core::protocol::{MAX_MESSAGE_BYTES, ServerMsg, in_parts};

/// The author's and everyone else's copy of a recorded change, a pair per
/// message (one `applied`, or the `applied_part`s of a batch too large for
/// one); `by` is the author's person number in the room's presence.
pub(crate) fn applied_messages(record: &Record) -> Vec<(Frame, Frame)> {
    let (seq, op) = (record.seq, Some(record.op));
    let (mut others, parts) = others_and_parts(record);
    match parts {
        None => {
            let own = ServerMsg::Applied { seq, change: record.change.clone(), op, by: None }.to_json();
            vec![(Frame::from(own), others.remove(0))]
        }
        Some(parts) => parts.iter().map(|p| part(seq, p, op, None)).zip(others).collect(),
    }
}

/// Everyone else's copy of a recorded change (all a change another node
/// recorded needs), in the same messages as `applied_messages` makes.
pub(crate) fn others_copy(record: &Record) -> Vec<Frame> {
    others_and_parts(record).0
}

/// One `applied_part`'s place and changes: (part, parts, changes).
type Run = (u32, u32, Vec<Change>);

/// The author's copy is at most this much longer than the others' (`"op":`
/// and up to 16 digits, against a `by` that may be absent).
const OWN_COPY_EXTRA: usize = 24;

/// Everyone else's copies, and for a batch too large for one message, the
/// runs of its changes they were cut into (the author's copy is cut the same
/// way: an author told of a change in other pieces than everyone else would
/// be out of step with the room's stream). Past the size a client may send, a
/// member's socket would have to hold the whole of it at once.
fn others_and_parts(record: &Record) -> (Vec<Frame>, Option<Vec<Run>>) {
    let (seq, by) = (record.seq, record.by);
    let whole = ServerMsg::Applied { seq, change: record.change.clone(), op: None, by }.to_json();
    let changes = match &record.change {
        Change::Batch { changes } if whole.len() + OWN_COPY_EXTRA > MAX_MESSAGE_BYTES => changes,
        _ => return (vec![Frame::from(whole)], None),
    };
    let runs = in_parts(changes);
    let parts = runs.len() as u32;
    let runs: Vec<Run> = runs.into_iter().zip(0..).map(|(run, part)| (part, parts, run.to_vec())).collect();
    (runs.iter().map(|p| part(seq, p, None, by)).collect(), Some(runs))
}

fn part(seq: u64, (part, parts, changes): &Run, op: Option<u64>, by: Option<u32>) -> Frame {
    frame(&ServerMsg::AppliedPart { seq, part: *part, parts: *parts, changes: changes.clone(), op, by })
}
