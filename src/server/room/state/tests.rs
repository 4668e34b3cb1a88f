//! The room's decisions on their own: no tokio, no store, no sockets.
#![allow(clippy::unwrap_used)] // tests unwrap what must hold

use std::time::{Duration, Instant};

use super::*;
use crate::server::storage::{LoadedRoom, SNAPSHOT_EVERY};
use sketchboard_core::model::{Shape, ShapeId, ShapeKind};
use sketchboard_core::protocol::Position;

fn fresh() -> RoomState {
    RoomState::loaded(RoomName::parse("r").unwrap(), LoadedRoom::default(), 77, Instant::now())
}

fn author(member: u64, client: &str) -> Author {
    let network = Network::of(std::net::Ipv4Addr::new(192, 0, 2, member as u8).into());
    Author { member: ConnId(member), client: ClientId::parse(client).unwrap(), network, by: Some(member as u32) }
}

fn create(id: &str, x: f64) -> Change {
    Change::Create { shape: Shape::new(ShapeId::parse(id).unwrap(), ShapeKind::Circle, x, 0.0) }
}

fn moved(id: &str, x: f64) -> Change {
    Change::Move { id: ShapeId::parse(id).unwrap(), x, y: 0.0 }
}

fn allowed() -> Result<(), String> {
    Ok(())
}

fn read(frame: &Frame) -> ServerMsg {
    ServerMsg::decode(frame).unwrap()
}

/// Stages, commits and records `changes` by member 1 ("alice"), ops from `op`.
fn record_all(state: &mut RoomState, op: u64, changes: Vec<Change>) -> Vec<(To, Frame)> {
    for (i, change) in changes.into_iter().enumerate() {
        assert_eq!(state.stage(author(1, "alice"), op + i as u64, change, allowed), Judged::Staged);
    }
    let commit = state.commit(Instant::now()).unwrap();
    state.recorded(commit, Instant::now())
}

#[test]
fn a_change_is_staged_numbered_and_told_to_nobody_until_recorded() {
    let mut state = fresh();
    assert_eq!(state.stage(author(1, "alice"), 1, create("a", 10.0), allowed), Judged::Staged);
    assert_eq!((state.seq(), state.board().len()), (1, 1), "applied at once, for the changes after it");
    let mut commit = state.commit(Instant::now()).unwrap();
    let append = commit.append.take().unwrap();
    assert_eq!(append.records.len(), 1);
    assert_eq!((append.records[0].seq, append.records[0].op, append.epoch), (1, 1, 77));
    assert_eq!(append.creator.as_deref(), Some("192.0.2.1"), "the first change stores the room");
    let out = state.recorded(commit, Instant::now());
    let [(To::AllWithOwnCopy { author: ConnId(1), own }, others)] = &out[..] else { panic!("{out:?}") };
    assert!(matches!(read(own), ServerMsg::Applied { seq: 1, op: Some(1), by: None, .. }), "the confirmation");
    assert!(matches!(read(others), ServerMsg::Applied { seq: 1, op: None, by: Some(1), .. }), "everyone else's");
    assert!(state.commit(Instant::now()).is_none(), "nothing left staged");
    let later = record_all(&mut state, 2, vec![moved("a", 20.0)]);
    assert_eq!(later.len(), 1);
    let mut commit = {
        state.stage(author(1, "alice"), 3, moved("a", 30.0), allowed);
        state.commit(Instant::now()).unwrap()
    };
    assert!(commit.append.take().unwrap().creator.is_none(), "only the first change names its creator");
}

#[test]
fn repeats_jumps_and_changes_the_board_refuses_are_refused_in_order() {
    let mut state = fresh();
    record_all(&mut state, 1, vec![create("a", 10.0)]);
    let alice = || author(1, "alice");
    assert_eq!(state.stage(alice(), 1, moved("a", 1.0), allowed), Judged::Refused(ErrorCode::StaleOp));
    let far = 1 + MAX_OP_JUMP + 1;
    assert_eq!(state.stage(alice(), far, moved("a", 1.0), allowed), Judged::Refused(ErrorCode::OpTooFar));
    assert_eq!(state.stage(alice(), 2, moved("nope", 1.0), allowed), Judged::Refused(ErrorCode::UnknownShape));
    assert_eq!(state.stage(alice(), 2, moved("a", 2.0), allowed), Judged::Staged, "op 2 is still free");
    assert_eq!(state.stage(alice(), 2, moved("a", 3.0), allowed), Judged::Refused(ErrorCode::StaleOp));
    let commit = state.commit(Instant::now()).unwrap();
    let out = state.recorded(commit, Instant::now());
    let codes: Vec<String> = out
        .iter()
        .map(|(to, frame)| match (to, read(frame)) {
            (To::One(_), ServerMsg::Error { code, op, .. }) => format!("{code:?} {op:?}"),
            (To::AllWithOwnCopy { .. }, ServerMsg::Applied { seq, .. }) => format!("applied {seq}"),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        codes,
        [
            "StaleOp Some(1)".to_owned(),
            format!("OpTooFar Some({far})"),
            "UnknownShape Some(2)".into(),
            "applied 2".into(),
            "StaleOp Some(2)".into()
        ],
        "everything in the order judged"
    );
    assert_eq!(state.seq(), 2);
}

#[test]
fn a_room_is_stored_on_its_authors_account_only_by_a_change_it_records() {
    let mut state = fresh();
    let mut asked = 0;
    let refused = state.stage(author(1, "alice"), 1, moved("nothing", 1.0), || {
        asked += 1;
        Ok(())
    });
    assert_eq!((refused, asked), (Judged::Refused(ErrorCode::UnknownShape), 0), "an invalid change costs nothing");
    let over = state.stage(author(1, "alice"), 2, create("a", 1.0), || Err("too many rooms".into()));
    assert_eq!(over, Judged::Refused(ErrorCode::TooManyRooms));
    assert_eq!((state.seq(), state.board().len()), (0, 0), "nothing applied");
}

#[test]
fn a_snapshot_is_due_once_the_log_since_the_last_one_outweighs_it() {
    let mut state = fresh();
    record_all(&mut state, 1, vec![create("a", 1.0)]);
    for op in 2..SNAPSHOT_EVERY {
        state.stage(author(1, "alice"), op, moved("a", op as f64), allowed);
        let mut commit = state.commit(Instant::now()).unwrap();
        assert!(commit.append.take().unwrap().snapshot.is_none(), "not yet at {op}");
        state.recorded(commit, Instant::now());
    }
    state.stage(author(1, "alice"), SNAPSHOT_EVERY, moved("a", 5.0), allowed);
    let mut commit = state.commit(Instant::now()).unwrap();
    let snapshot = commit.append.take().unwrap().snapshot.expect("due after SNAPSHOT_EVERY changes");
    let board: sketchboard_core::model::Board = serde_json::from_str(&snapshot.board).unwrap();
    assert_eq!(&board, state.board(), "the board as of its last record");
    let alice = (ClientId::parse("alice").unwrap(), SNAPSHOT_EVERY);
    assert!(!snapshot.marks.is_empty() && snapshot.marks.iter().all(|m| *m == alice), "{:?}", snapshot.marks);
}

#[test]
fn the_lobby_line_is_refreshed_with_the_first_change_then_at_most_once_a_minute() {
    let start = Instant::now();
    let mut state = RoomState::loaded(RoomName::parse("r").unwrap(), LoadedRoom::default(), 1, start);
    record_all(&mut state, 1, vec![create("a", 1.0)]);
    assert_eq!(state.stale_row(), None, "the first change writes it");
    state.stage(author(1, "alice"), 2, moved("a", 2.0), allowed);
    let mut commit = state.commit(start).unwrap();
    assert!(!commit.append.take().unwrap().refresh);
    state.recorded(commit, start);
    assert_eq!(state.stale_row(), Some((2, 1)), "lagging until a minute has passed");
    let later = start + Duration::from_secs(61);
    state.stage(author(1, "alice"), 3, moved("a", 3.0), allowed);
    let mut commit = state.commit(later).unwrap();
    assert!(commit.append.take().unwrap().refresh);
    state.recorded(commit, later);
    assert_eq!(state.stale_row(), None);
}

#[test]
fn a_lost_race_hands_back_every_change_to_judge_again_in_order() {
    let mut state = fresh();
    record_all(&mut state, 1, vec![create("a", 1.0)]);
    state.stage(author(1, "alice"), 2, moved("a", 2.0), allowed);
    state.stage(author(2, "bob"), 1, moved("zz", 2.0), allowed);
    state.stage(author(1, "alice"), 3, moved("a", 3.0), allowed);
    let commit = state.commit(Instant::now()).unwrap();
    let (base, asked) = RoomState::lost_race(commit);
    assert_eq!(base, 1, "the members' boards stand at the seq before the batch");
    let asked: Vec<_> = asked.into_iter().map(|(a, op, change)| (a.client.to_string(), op, change)).collect();
    assert_eq!(
        asked,
        [
            ("alice".into(), 2, moved("a", 2.0)),
            ("bob".into(), 1, moved("zz", 2.0)),
            ("alice".into(), 3, moved("a", 3.0))
        ],
        "refused ones too: against the log's head they may be fine"
    );
}

#[test]
fn following_the_log_applies_what_other_nodes_recorded_and_stops_at_a_gap() {
    let mut state = fresh();
    record_all(&mut state, 1, vec![create("a", 1.0)]);
    let entry = |seq: u64, op: u64, change: Change| crate::server::storage::LogEntry {
        seq,
        client: ClientId::parse("elsewhere").unwrap(),
        op,
        at_ms: 0,
        change,
        bytes: 10,
        by: Some(9),
    };
    let out = state.follow(vec![entry(2, 1, moved("a", 5.0)), entry(3, 2, moved("a", 6.0))]).unwrap();
    assert_eq!(out.len(), 2);
    assert!(matches!(read(&out[1]), ServerMsg::Applied { seq: 3, op: None, by: Some(9), .. }));
    assert_eq!(state.seq(), 3);
    // Its author's mark moved too: a repeat from it is refused.
    let elsewhere = || Author { client: ClientId::parse("elsewhere").unwrap(), ..author(5, "x") };
    assert_eq!(state.stage(elsewhere(), 2, moved("a", 1.0), allowed), Judged::Refused(ErrorCode::StaleOp));
    let gap = state.follow(vec![entry(5, 3, moved("a", 7.0))]).unwrap_err();
    assert_eq!((gap.seq, gap.found), (3, 5));
}

#[test]
fn a_joiner_gets_the_changes_it_missed_or_else_the_whole_board() {
    let mut state = fresh();
    record_all(&mut state, 1, vec![create("a", 1.0), create("b", 2.0), moved("a", 3.0)]);
    let alice = ClientId::parse("alice").unwrap();
    let at = |seq| Some(Position { epoch: 77, seq });
    let answer = state.answer_hello(&alice, at(1), false, 2);
    let [one] = &answer[..] else { panic!("one catch-up, got {}", answer.len()) };
    let ServerMsg::CatchUp { from, changes, members, last_op, .. } = read(one) else { panic!() };
    assert_eq!((from, changes.len(), members, last_op), (1, 2, 2, 3));
    // Another incarnation, or a board beyond the room's: the whole board.
    for position in [Some(Position { epoch: 5, seq: 1 }), at(9), None] {
        let answer = state.answer_hello(&alice, position, false, 1);
        let ServerMsg::Welcome { seq, parts, room, .. } = read(&answer[0]) else { panic!() };
        assert_eq!((seq, parts as usize, answer.len(), room.as_str()), (3, 1, 2, "r"));
        assert!(matches!(read(&answer[1]), ServerMsg::Board { seq: 3, part: 0, ref shapes } if shapes.len() == 2));
    }
    // A viewer is never told the room's name: it is the edit link.
    let answer = state.answer_hello(&alice, None, true, 1);
    assert!(matches!(read(&answer[0]), ServerMsg::Welcome { ref room, .. } if room.as_str() == "view-only"));
}

/// Around the message limit, the author's copy and the others' come in the
/// same number of messages, each within the limit, whatever the `op`.
#[test]
fn a_big_batch_reaches_its_author_and_everyone_else_in_the_same_parts() {
    use crate::server::storage::Record;
    use sketchboard_core::protocol::MAX_MESSAGE_BYTES;
    let moves = |n: usize| Change::Batch {
        changes: (0..n)
            .map(|i| Change::Move { id: ShapeId::parse(format!("s{i}")).unwrap(), x: 1.5, y: 2.5 })
            .collect(),
    };
    let mut split = false;
    for n in (1_450..1_750).step_by(7) {
        for (op, by) in [(sketchboard_core::protocol::MAX_OP, None), (1, Some(7))] {
            let record = Record { seq: 9, client: ClientId::parse("c").unwrap(), op, change: moves(n), by };
            let pairs = applied_messages(&record);
            assert_eq!(pairs.len(), others_copy(&record).len(), "{n} moves");
            assert!(
                pairs.iter().all(|(own, others)| own.len() <= MAX_MESSAGE_BYTES && others.len() <= MAX_MESSAGE_BYTES)
            );
            split |= pairs.len() > 1;
        }
    }
    assert!(split, "the sizes tried cross the limit");
}
