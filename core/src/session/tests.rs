//! The session's tests: the protocol as a tab lives it, message by message.

use super::*;
use crate::model::fixtures::create;
use crate::protocol::{MAX_MESSAGE_BYTES, PROTOCOL_VERSION};

fn room() -> crate::model::RoomName {
    crate::model::RoomName::parse("r").unwrap()
}
/// A welcome with its board in one part, taken in; what the last message meant.
fn welcome(s: &mut Session, seq: u64, epoch: u64, shapes: Vec<Shape>, last_op: u64) -> Event {
    let welcome =
        ServerMsg::Welcome { version: PROTOCOL_VERSION, room: room(), seq, epoch, members: 2, last_op, parts: 1 };
    assert_eq!(s.receive(welcome), Event::Members(2), "the board is still to come");
    s.receive(ServerMsg::Board { seq, part: 0, shapes })
}
fn session() -> Session {
    Session::new(ClientId::parse("tab").unwrap())
}
fn since(hello: &ClientMsg) -> (Option<u64>, Option<u64>) {
    match hello {
        ClientMsg::Hello { since, epoch, .. } => (*since, *epoch),
        other => panic!("not a hello: {other:?}"),
    }
}

#[test]
fn changes_wait_until_the_hello_is_answered_then_go_out_in_order() {
    let mut s = session();
    assert_eq!(since(&s.hello()), (None, None), "nothing to resume from yet");
    assert_eq!(s.change(create("a", 1.0)).unwrap().send, [], "joining: it waits");
    assert_eq!(s.view().len(), 1, "but shows at once");
    let Event::Joined { resend, caught_up: false, .. } = welcome(&mut s, 0, 7, Vec::new(), 0) else { panic!("joined") };
    assert_eq!(resend, [ClientMsg::Change { op: 1, change: create("a", 1.0) }]);
    let sent = s.change(create("b", 300.0)).unwrap().send;
    assert_eq!(sent, [ClientMsg::Change { op: 2, change: create("b", 300.0) }]);
    let confirmed = s.receive(ServerMsg::Applied { seq: 1, change: create("a", 1.0), op: Some(1), by: None });
    assert_eq!(confirmed, Event::Applied { seq: 1, change: create("a", 1.0), own: Some(1), by: None });
    assert_eq!(s.pending(), 1);
}

#[test]
fn a_reconnect_says_where_the_board_stands_and_resends_only_what_the_room_lacks() {
    let mut s = session();
    s.hello();
    welcome(&mut s, 4, 7, Vec::new(), 0);
    let first = s.change(create("a", 1.0)).unwrap();
    let second = s.change(create("b", 300.0)).unwrap();
    assert!(first.send.len() == 1 && second.send.len() == 1, "live: both go out at once");
    s.disconnected();
    assert_eq!(since(&s.hello()), (Some(4), Some(7)));
    // The room recorded the first before the drop, and someone else's change.
    let answer = ServerMsg::CatchUp {
        version: PROTOCOL_VERSION,
        room: room(),
        from: 4,
        changes: vec![create("z", 600.0), create("a", 1.0)],
        members: 1,
        last_op: 1,
    };
    let Event::Joined { resend, caught_up: true, .. } = s.receive(answer) else { panic!("caught up") };
    assert_eq!(resend, [ClientMsg::Change { op: 2, change: create("b", 300.0) }]);
    assert_eq!(s.view().len(), 3);
}

#[test]
fn a_gap_or_a_change_before_the_answer_asks_for_a_snapshot() {
    let mut s = session();
    s.hello();
    let early = s.receive(ServerMsg::Applied { seq: 1, change: create("a", 1.0), op: None, by: None });
    assert!(matches!(early, Event::Resync(_)), "{early:?}");
    s.hello();
    welcome(&mut s, 3, 7, Vec::new(), 0);
    let gap = s.receive(ServerMsg::Applied { seq: 5, change: create("a", 1.0), op: None, by: None });
    assert!(matches!(gap, Event::Resync(_)), "{gap:?}");
    assert_eq!(s.phase(), Phase::Offline);
    assert_eq!(since(&s.hello()), (None, None), "a board it cannot vouch for is not offered");
}

#[test]
fn refusals_turn_aways_and_the_unreadable_are_told_apart() {
    let mut s = session();
    s.hello();
    welcome(&mut s, 0, 7, Vec::new(), 0);
    s.change(create("a", 1.0)).unwrap();
    let refused = s.receive(ServerMsg::error(ErrorCode::DuplicateShape, "taken", Some(1)));
    assert!(matches!(refused, Event::Refused { op: Some(1), .. }));
    assert!(s.view().is_empty(), "the refused change is gone from the view");
    let full = s.receive(ServerMsg::error(ErrorCode::RoomFull, "full", None));
    assert!(matches!(full, Event::TurnedAway { code: ErrorCode::RoomFull, .. }));
    assert!(matches!(s.receive_text(r#"{"type":"from_the_future"}"#), Event::Outdated(_)));
    let mismatch = s.receive(ServerMsg::error(ErrorCode::VersionMismatch, "reload", None));
    assert!(matches!(mismatch, Event::Outdated(_)));
}

#[test]
fn a_board_in_parts_is_taken_whole_and_in_order_only() {
    let shape = |name: &str, x: f64| match create(name, x) {
        Change::Create { shape } => shape,
        _ => unreachable!(),
    };
    let mut s = session();
    s.hello();
    let welcome = |parts| ServerMsg::Welcome {
        version: PROTOCOL_VERSION,
        room: room(),
        seq: 9,
        epoch: 3,
        members: 1,
        last_op: 0,
        parts,
    };
    s.receive(welcome(2));
    assert!(matches!(
        s.receive(ServerMsg::Board { seq: 9, part: 0, shapes: vec![shape("a", 1.0)] }),
        Event::Members(1)
    ));
    let joined = s.receive(ServerMsg::Board { seq: 9, part: 1, shapes: vec![shape("b", 300.0)] });
    assert!(matches!(joined, Event::Joined { .. }), "{joined:?}");
    assert_eq!(s.view().len(), 2);
    assert_eq!(s.replica().seq(), 9);

    // A part out of turn, or a board that no change could have made, is not taken.
    s.hello();
    s.receive(welcome(2));
    let skipped = s.receive(ServerMsg::Board { seq: 9, part: 1, shapes: Vec::new() });
    assert!(matches!(skipped, Event::Resync(ReplicaError::BadBoard(_))), "{skipped:?}");
    s.hello();
    s.receive(welcome(1));
    let twice = s.receive(ServerMsg::Board { seq: 9, part: 0, shapes: vec![shape("a", 1.0), shape("a", 5.0)] });
    assert!(matches!(twice, Event::Resync(ReplicaError::BadBoard(_))), "{twice:?}");
}

#[test]
fn what_is_saved_comes_back_in_a_new_page() {
    let mut s = session();
    s.change(create("a", 1.0)).unwrap();
    let text = serde_json::to_string(&s.saved()).unwrap();
    let mut again = Session::restore(serde_json::from_str(&text).unwrap());
    assert_eq!(again.client(), s.client());
    again.hello();
    let Event::Joined { resend, .. } = welcome(&mut again, 0, 1, Vec::new(), 0) else { panic!("joined") };
    assert_eq!(resend.len(), 1, "the unsent change goes out from the new page");
}

#[test]
fn a_batch_too_large_for_one_message_goes_in_parts_and_comes_back_as_one_change() {
    let mut s = session();
    s.hello();
    welcome(&mut s, 0, 7, Vec::new(), 0);
    let shapes: Vec<Change> = (0..3000).map(|i| create(&format!("shape-number-{i:05}"), (i % 1000) as f64)).collect();
    let batch = Change::Batch { changes: shapes.clone() };
    let made = s.change(batch.clone()).unwrap();
    assert!(made.send.len() > 1, "{} messages", made.send.len());
    let mut sent = Vec::new();
    for (i, msg) in made.send.iter().enumerate() {
        assert!(msg.to_json().len() <= MAX_MESSAGE_BYTES);
        let ClientMsg::Part { op: 1, part, parts, changes } = msg else { panic!("a part: {msg:?}") };
        assert_eq!((*part as usize, *parts as usize), (i, made.send.len()));
        sent.extend(changes.iter().cloned());
    }
    assert_eq!(sent, shapes, "the parts are the batch, in order");

    // The room's answer in parts: presence may come between them, and the
    // last makes the confirmation.
    let parts: Vec<Vec<Change>> = shapes.chunks(1000).map(<[Change]>::to_vec).collect();
    let part = |part: u32, changes: &[Change]| ServerMsg::AppliedPart {
        seq: 1,
        part,
        parts: 3,
        changes: changes.to_vec(),
        op: Some(1),
        by: None,
    };
    assert_eq!(s.receive(part(0, &parts[0])), Event::Arriving);
    assert_eq!(s.receive(ServerMsg::MemberCount { members: 3 }), Event::Members(3));
    assert_eq!(s.receive(part(1, &parts[1])), Event::Arriving);
    assert_eq!(s.receive(part(2, &parts[2])), Event::Applied { seq: 1, change: batch, own: Some(1), by: None });
    assert_eq!((s.pending(), s.replica().seq(), s.view().len()), (0, 1, 3000));

    // A part out of place, or a change amid parts, means the stream is lost.
    let other =
        |seq, part| ServerMsg::AppliedPart { seq, part, parts: 2, changes: vec![create("x", 1.0)], op: None, by: None };
    assert!(matches!(s.receive(other(2, 1)), Event::Resync(_)), "no part 0");
    s.hello();
    welcome(&mut s, 1, 7, Vec::new(), 1);
    assert_eq!(s.receive(other(2, 0)), Event::Arriving);
    let amid = ServerMsg::Applied { seq: 2, change: create("y", 1.0), op: None, by: None };
    assert!(matches!(s.receive(amid), Event::Resync(_)), "a change amid another's parts");
}

#[test]
fn a_change_the_server_is_too_busy_for_waits_and_goes_again() {
    let mut s = session();
    s.hello();
    welcome(&mut s, 0, 7, Vec::new(), 0);
    s.change(create("a", 1.0)).unwrap();
    let busy = ServerMsg::error(ErrorCode::Busy, "busy", Some(1));
    assert!(matches!(s.receive(busy), Event::Refused { code: ErrorCode::Busy, op: Some(1), .. }));
    assert_eq!((s.pending(), s.view().len()), (1, 1), "kept, and still shown");
    s.disconnected();
    s.hello();
    let Event::Joined { resend, .. } = welcome(&mut s, 0, 7, Vec::new(), 0) else { panic!("joined") };
    assert_eq!(resend, [ClientMsg::Change { op: 1, change: create("a", 1.0) }], "sent again");
}

/// What a tab saved before a reload reads back in a newer build, and the
/// other way round: the saved JSON keeps its shape.
#[test]
fn a_saved_session_keeps_its_json_shape() {
    let mut s = Session::new(ClientId::parse("tab").unwrap());
    s.change(create("a", 10.0)).unwrap();
    let json = serde_json::to_value(s.saved()).unwrap();
    let mut keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["client", "next_op", "pending"]);
    let older = r#"{"client":"tab","next_op":2,"pending":[[1,{"op":"delete","id":"a"}]]}"#;
    let restored = Session::restore(serde_json::from_str(older).unwrap());
    assert_eq!(restored.pending(), 1);
}
