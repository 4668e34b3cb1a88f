//! The assembler and the budget on their own (time paused where it matters).
#![allow(clippy::unwrap_used)] // tests unwrap what must hold

use super::budget::STALL;
use super::*;
use sketchboard_core::model::ShapeId;

/// A budget of this many messages' worth.
fn budget(messages: usize) -> PartsBudget {
    PartsBudget::new(messages * MAX_MESSAGE_BYTES)
}

const PLENTY: usize = 1024;
/// A small frame's bytes.
const TINY: usize = 100;
/// A part that weighs one whole message: one change, in a full frame.
const FULL: usize = MAX_MESSAGE_BYTES - std::mem::size_of::<Change>();

fn moves(n: usize) -> Vec<Change> {
    (0..n).map(|i| Change::Move { id: ShapeId::parse(format!("s{i}")).unwrap(), x: 1.0, y: 2.0 }).collect()
}

fn codes(took: &Took) -> Vec<ErrorCode> {
    took.refusals
        .iter()
        .filter_map(|m| if let ServerMsg::Error { code, .. } = m { Some(*code) } else { None })
        .collect()
}

fn net(n: u8) -> Network {
    Network::of(std::net::IpAddr::from([10, 0, 0, n]))
}

#[tokio::test(start_paused = true)]
async fn parts_in_order_make_one_batch_and_hold_room_only_for_what_arrived() {
    let budget = budget(PLENTY);
    let free = |messages: usize| (PLENTY - messages) * MAX_MESSAGE_BYTES;
    let mut a = Assembler::new(budget.clone(), net(1));
    assert!(a.part(7, 0, 64, moves(1), FULL).whole.is_none());
    assert_eq!(budget.available(), free(2), "a 64-part change holds its first part and room for the next");
    assert!(a.part(7, 1, 64, moves(1), FULL).whole.is_none());
    assert_eq!(budget.available(), free(3), "and each part as it comes");
    let mut b = Assembler::new(budget.clone(), net(2));
    b.part(1, 0, 2, moves(1), FULL);
    let Some((1, Change::Batch { changes }, room)) = b.part(1, 1, 2, moves(2), TINY).whole else { panic!("whole") };
    assert_eq!(changes.len(), 3);
    assert_eq!(budget.available(), free(5), "held while the room takes it in");
    drop(room);
    drop(a);
    assert_eq!(budget.available(), free(0), "and given back");
    let mut tiny = Assembler::new(budget.clone(), net(3));
    tiny.part(1, 0, 64, moves(1), TINY);
    let held = free(0) - budget.available();
    assert!(held < MAX_MESSAGE_BYTES + 1024, "what it announced earns nothing: {held}");
}

#[tokio::test(start_paused = true)]
async fn a_part_out_of_place_refuses_the_change_once() {
    let mut a = Assembler::new(budget(PLENTY), net(1));
    assert_eq!(codes(&a.part(3, 1, 2, moves(1), TINY)), [ErrorCode::BadBatch], "no part 0");
    a.part(4, 0, 3, moves(1), TINY);
    assert_eq!(codes(&a.part(4, 2, 3, moves(1), TINY)), [ErrorCode::BadBatch], "a part skipped");
    assert!(a.part(4, 1, 3, moves(1), TINY).refusals.is_empty(), "the rest of it dropped quietly");
    tokio::time::advance(Duration::from_secs(60)).await;
    a.part(5, 0, 2, moves(1), TINY);
    assert_eq!(a.interrupted().map(|m| matches!(m, ServerMsg::Error { op: Some(5), .. })), Some(true));
    assert!(a.part(5, 1, 2, moves(1), TINY).whole.is_none(), "an interrupted change never completes");
}

/// Part 0 twice for one op, then part 1: once the op was both refused and
/// recorded. Every op gets one answer.
#[tokio::test(start_paused = true)]
async fn part_0_twice_refuses_the_op_once_and_it_never_completes() {
    let mut a = Assembler::new(budget(PLENTY), net(1));
    assert!(a.part(9, 0, 2, moves(1), TINY).refusals.is_empty());
    assert_eq!(codes(&a.part(9, 0, 2, moves(1), TINY)), [ErrorCode::BadBatch], "one refusal");
    let took = a.part(9, 1, 2, moves(1), TINY);
    assert!(took.refusals.is_empty() && took.whole.is_none(), "and nothing more for that op");
}

#[tokio::test(start_paused = true)]
async fn one_address_holds_a_quarter_and_a_full_budget_is_busy() {
    let budget = budget(16);
    let mut a = Assembler::new(budget.clone(), net(1));
    a.part(1, 0, 8, moves(1), FULL);
    assert!(a.part(1, 1, 8, moves(1), FULL).refusals.is_empty(), "three of its four");
    let mut again = Assembler::new(budget.clone(), net(1));
    assert_eq!(codes(&again.part(2, 0, 8, moves(1), FULL)), [ErrorCode::Busy], "one address: a quarter");
    let mut holders: Vec<Assembler> = (2..8).map(|n| Assembler::new(budget.clone(), net(n))).collect();
    for h in &mut holders {
        assert!(h.part(1, 0, 8, moves(1), FULL).refusals.is_empty(), "other addresses have room");
    }
    assert_eq!(budget.available(), MAX_MESSAGE_BYTES);
    let mut late = Assembler::new(budget.clone(), net(9));
    assert_eq!(codes(&late.part(1, 0, 2, moves(1), FULL)), [ErrorCode::Busy], "everything held, nothing stalled");
    assert!(a.part(1, 2, 8, moves(MAX_BATCH), TINY).refusals.len() == 1, "past MAX_BATCH: refused");
}

/// When a change needs room, changes whose parts stopped coming give theirs
/// up (the address holding the most first), and their connections hear it at
/// once; changes still arriving keep theirs.
#[tokio::test(start_paused = true)]
async fn stalled_changes_give_their_room_to_one_that_needs_it() {
    let budget = budget(16);
    let mut stalled = Assembler::new(budget.clone(), net(1));
    stalled.part(1, 0, 8, moves(1), FULL);
    stalled.part(1, 1, 8, moves(1), FULL);
    let mut arriving: Vec<Assembler> = (2..6).map(|n| Assembler::new(budget.clone(), net(n))).collect();
    for a in &mut arriving {
        a.part(1, 0, 8, moves(1), FULL);
    }
    tokio::time::advance(STALL).await;
    // The others keep sending.
    for a in &mut arriving {
        assert!(a.part(1, 1, 8, moves(1), FULL).refusals.is_empty());
    }
    assert_eq!(budget.available(), MAX_MESSAGE_BYTES);
    let mut honest = Assembler::new(budget.clone(), net(9));
    assert!(honest.part(1, 0, 2, moves(1), FULL).refusals.is_empty(), "the stalled one gave way");
    let evicted = tokio::time::timeout(Duration::from_millis(1), stalled.evicted()).await;
    assert!(evicted.is_ok(), "its connection is told at once");
    let refusal = stalled.expired();
    assert!(matches!(refusal, Some(ServerMsg::Error { code: ErrorCode::BadBatch, op: Some(1), .. })), "{refusal:?}");
    assert!(stalled.part(1, 2, 8, moves(1), TINY).refusals.is_empty(), "its later parts go quietly");
    assert!(tokio::time::timeout(Duration::from_millis(1), arriving[0].evicted()).await.is_err(), "not the others");
    let Some((1, _, _)) = honest.part(1, 1, 2, moves(1), TINY).whole else { panic!("the honest change is whole") };
}

/// An address whose changes keep being abandoned waits longer and longer
/// before it may start another; one abandoned change costs half a second.
#[tokio::test(start_paused = true)]
async fn an_address_that_keeps_abandoning_waits_longer() {
    let budget = budget(PLENTY);
    let mut a = Assembler::new(budget.clone(), net(1));
    let mut waits = Vec::new();
    for op in 1..=4 {
        assert!(a.part(op, 0, 2, moves(1), TINY).refusals.is_empty(), "change {op} starts");
        tokio::time::advance(PART_WITHIN).await;
        assert!(a.expired().is_some(), "and is abandoned");
        let mut waited = Duration::ZERO;
        let mut probe = Assembler::new(budget.clone(), net(1));
        while codes(&probe.part(100 + op, 0, 2, moves(1), TINY)) == [ErrorCode::Busy] {
            probe = Assembler::new(budget.clone(), net(1));
            tokio::time::advance(Duration::from_millis(100)).await;
            waited += Duration::from_millis(100);
        }
        drop(probe);
        waits.push(waited);
    }
    assert!(waits[0] <= Duration::from_millis(600), "one: about half a second, {waits:?}");
    assert!(waits.windows(2).all(|w| w[1] > w[0]), "each longer: {waits:?}");
    let mut neighbour = Assembler::new(budget.clone(), net(2));
    assert!(neighbour.part(1, 0, 2, moves(1), TINY).refusals.is_empty(), "another address is not affected");
}

#[tokio::test(start_paused = true)]
async fn a_change_that_stops_arriving_is_abandoned() {
    let budget = budget(PLENTY);
    let mut a = Assembler::new(budget.clone(), net(1));
    a.part(1, 0, 2, moves(1), TINY);
    assert!(a.expired().is_none(), "not yet");
    tokio::time::advance(PART_WITHIN).await;
    assert!(matches!(a.expired(), Some(ServerMsg::Error { code: ErrorCode::BadBatch, op: Some(1), .. })));
    assert_eq!((a.due(), budget.available()), (None, PLENTY * MAX_MESSAGE_BYTES), "its room given back");
}
