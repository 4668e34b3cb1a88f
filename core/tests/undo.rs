//! Undo and redo (`history`), batches, colours and layers in the shared model:
//! the rules by example, then as properties over random interleavings of one
//! person's recorded actions with another's.
#![allow(clippy::unwrap_used)] // tests unwrap what must hold

use proptest::prelude::*;
use sketchboard_core::model::{
    BOARD_HEIGHT, BOARD_WIDTH, Board, Change, ChangeError, CharId, Color, MAX_BATCH, Run, Shape, ShapeId, ShapeKind,
    TextSize,
};
use sketchboard_core::undo::{History, Step};

fn id(s: &str) -> ShapeId {
    ShapeId::parse(s).unwrap()
}

fn create(name: &str, x: f64) -> Change {
    Change::Create { shape: Shape::new(id(name), ShapeKind::Circle, x, 10.0) }
}

fn moved(name: &str, x: f64) -> Change {
    Change::Move { id: id(name), x, y: 10.0 }
}

/// Applies `change` to `board` as the person with `history` did it.
fn act(board: &mut Board, history: &mut History, change: Change) {
    let step = Step::before(board, &change);
    board.apply(&change).unwrap();
    history.push(step.finish(board), false);
}

fn undo(board: &mut Board, history: &mut History) {
    if let Some(change) = history.undo(board) {
        board.apply(&change).unwrap();
    }
}

fn redo(board: &mut Board, history: &mut History) {
    if let Some(change) = history.redo(board) {
        board.apply(&change).unwrap();
    }
}

fn x_of(board: &Board, name: &str) -> Option<f64> {
    board.get(&id(name)).map(|s| s.x)
}

#[test]
fn undoing_a_creation_deletes_the_shape_even_if_others_moved_it() {
    let (mut board, mut mine) = (Board::new(), History::new());
    act(&mut board, &mut mine, create("a", 100.0));
    board.apply(&moved("a", 300.0)).unwrap(); // someone else
    undo(&mut board, &mut mine);
    assert!(board.get(&id("a")).is_none());
    redo(&mut board, &mut mine);
    assert_eq!(x_of(&board, "a"), Some(300.0), "redo brings it back as it was when undone");
}

#[test]
fn undoing_a_deletion_brings_the_shape_back_exactly() {
    let (mut board, mut mine) = (Board::new(), History::new());
    board.apply(&create("under", 0.0)).unwrap();
    board.apply(&create("a", 100.0)).unwrap();
    board.apply(&Change::Color { id: id("a"), color: Color::Pink }).unwrap();
    board.apply(&Change::Layer { id: id("a"), z: 7 }).unwrap();
    let before = board.get(&id("a")).cloned();
    act(&mut board, &mut mine, Change::Delete { id: id("a") });
    undo(&mut board, &mut mine);
    assert_eq!(board.get(&id("a")).cloned(), before, "same id, place, colour and layer");
    assert_eq!(board.shapes().last().map(|s| s.id.as_str()), Some("a"), "still above the one under it");
}

#[test]
fn undoing_a_move_leaves_someone_elses_later_move_alone() {
    let (mut board, mut mine) = (Board::new(), History::new());
    board.apply(&create("a", 100.0)).unwrap();
    act(&mut board, &mut mine, moved("a", 200.0));
    let theirs = moved("a", 500.0);
    board.apply(&theirs).unwrap(); // someone else, since
    mine.observe(&theirs);
    undo(&mut board, &mut mine);
    assert_eq!(x_of(&board, "a"), Some(500.0), "theirs stands");
    assert!(!mine.can_redo(), "nothing was undone, so nothing to redo");

    // Without anyone in between, the move goes back, and forward again.
    act(&mut board, &mut mine, moved("a", 600.0));
    undo(&mut board, &mut mine);
    assert_eq!(x_of(&board, "a"), Some(500.0));
    redo(&mut board, &mut mine);
    assert_eq!(x_of(&board, "a"), Some(600.0));
}

#[test]
fn colour_and_position_are_undone_separately() {
    let (mut board, mut mine) = (Board::new(), History::new());
    board.apply(&create("a", 100.0)).unwrap();
    let both = Change::Batch { changes: vec![moved("a", 200.0), Change::Color { id: id("a"), color: Color::Red }] };
    act(&mut board, &mut mine, both);
    board.apply(&Change::Color { id: id("a"), color: Color::Teal }).unwrap(); // someone else
    undo(&mut board, &mut mine);
    let a = board.get(&id("a")).unwrap();
    assert_eq!((a.x, a.fill()), (100.0, Color::Teal), "my move undone, their colour kept");
}

#[test]
fn an_arrow_key_burst_is_one_step() {
    let (mut board, mut mine) = (Board::new(), History::new());
    board.apply(&create("a", 100.0)).unwrap();
    for x in [101.0, 102.0, 103.0] {
        let change = moved("a", x);
        let step = Step::before(&board, &change);
        board.apply(&change).unwrap();
        mine.push(step.finish(&board), true);
    }
    undo(&mut board, &mut mine);
    assert_eq!(x_of(&board, "a"), Some(100.0));
    assert!(!mine.can_undo());
}

#[test]
fn a_batch_is_all_or_nothing() {
    let mut board = Board::new();
    board.apply(&create("a", 100.0)).unwrap();
    let before = board.clone();
    let bad = Change::Batch { changes: vec![moved("a", 300.0), create("b", 0.0), moved("nobody", 1.0)] };
    let err = board.apply(&bad).unwrap_err();
    assert!(matches!(err, ChangeError::InBatch { index: 2, .. }), "{err:?}");
    assert_eq!(err.to_string(), "change 3 of the batch: no shape with id nobody on this board");
    assert_eq!(board, before, "nothing of it applied");

    let later_parts_see_earlier_ones =
        Change::Batch { changes: vec![create("b", 0.0), moved("b", 40.0), Change::Delete { id: id("a") }] };
    board.apply(&later_parts_see_earlier_ones).unwrap();
    assert_eq!((x_of(&board, "b"), x_of(&board, "a")), (Some(40.0), None));

    let nested = Change::Batch { changes: vec![Change::Batch { changes: vec![moved("b", 1.0)] }] };
    assert!(matches!(board.apply(&nested), Err(ChangeError::InBatch { .. })));
    assert!(board.apply(&Change::Batch { changes: vec![] }).is_err(), "an empty batch");
    let too_many = Change::Batch { changes: vec![moved("b", 1.0); MAX_BATCH + 1] };
    assert_eq!(board.apply(&too_many), Err(ChangeError::BatchSize(MAX_BATCH + 1)));
}

#[test]
fn layers_order_drawing_and_hits() {
    let mut board = Board::new();
    for (name, x) in [("a", 0.0), ("b", 20.0), ("c", 40.0)] {
        board.apply(&create(name, x)).unwrap();
    }
    let order = |b: &Board| b.shapes().map(|s| s.id.to_string()).collect::<Vec<_>>().join("");
    assert_eq!(order(&board), "abc");
    board.apply(&Change::Layer { id: id("a"), z: board.top_layer() + 1 }).unwrap();
    assert_eq!(order(&board), "bca", "brought to front");
    assert_eq!(board.hit_test(70.0, 70.0).map(|s| s.id.as_str()), Some("a"));
    board.apply(&Change::Layer { id: id("c"), z: board.bottom_layer() - 1 }).unwrap();
    assert_eq!(order(&board), "cba", "sent to back");
    // A snapshot keeps the order, and one out of layer order is refused.
    let back: Board = serde_json::from_str(&serde_json::to_string(&board).unwrap()).unwrap();
    assert_eq!(order(&back), "cba");
    let shuffled: Vec<Shape> = board.shapes().rev().cloned().collect();
    assert_eq!(Board::try_from(shuffled), Err(ChangeError::LayersOutOfOrder));
    assert!(board.apply(&Change::Layer { id: id("c"), z: i64::MAX }).is_err(), "beyond MAX_LAYER");
}

/// An action by one of two people: what, which shape, where, and its colour.
#[derive(Debug, Clone)]
struct Action {
    mine: bool,
    what: u8,
    pick: usize,
    x: f64,
    color: usize,
}

fn action() -> impl Strategy<Value = Action> {
    (any::<bool>(), 0u8..10, 0usize..8, 0.0..1400.0f64, 0usize..9).prop_map(|(mine, what, pick, x, color)| Action {
        mine,
        what,
        pick,
        x,
        color,
    })
}

/// What the action does to `board`; `made` numbers new shapes.
fn change_for(board: &Board, a: &Action, made: &mut usize) -> Change {
    let ids: Vec<ShapeId> = board.shapes().map(|s| s.id.clone()).collect();
    let Some(target) = ids.get(a.pick % ids.len().max(1)).cloned().filter(|_| a.what != 0) else {
        *made += 1;
        return create(&format!("s{made}"), a.x);
    };
    // Moves keep a resized shape on the board.
    let x_for = |id: &ShapeId| board.get(id).map_or(a.x, |s| a.x.min(BOARD_WIDTH - s.w));
    match a.what {
        1 => Change::Move { x: x_for(&target), id: target, y: 10.0 },
        2 => Change::Delete { id: target },
        3 => Change::Color { id: target, color: Color::ALL[a.color] },
        4 => Change::Layer { id: target, z: board.top_layer() + 1 },
        6 => Change::Resize { id: target, x: a.x / 2.0, y: 10.0, w: 10.0 + a.x / 2.0, h: 10.0 + 30.0 * a.color as f64 },
        7 => Change::Rotate { id: target, rotation: a.x % 360.0 },
        8 => {
            // A letter or two at a place picked among the shown ones, by writer 1 (me) or 2.
            let shown: Vec<CharId> = board.get(&target).map(|s| s.text.shown_ids().collect()).unwrap_or_default();
            let place = (a.x as usize) % (shown.len() + 1);
            *made += 1;
            let at = CharId(if a.mine { 1 } else { 2 }, 2 * *made as u32);
            let text = ["a", "bc"][a.color % 2].to_owned();
            Change::Write { id: target, after: place.checked_sub(1).map(|i| shown[i]), at, text }
        }
        9 => {
            let shown: Vec<CharId> = board.get(&target).map(|s| s.text.shown_ids().collect()).unwrap_or_default();
            match shown.get((a.x as usize) % shown.len().max(1)) {
                Some(c) => Change::Erase { id: target, chars: vec![Run(c.0, c.1, 1)] },
                None => Change::TextSize { id: target, size: TextSize::ALL[a.color % 4] },
            }
        }
        _ => Change::Batch {
            changes: ids
                .iter()
                .take(3)
                .map(|id| Change::Move { id: id.clone(), x: x_for(id), y: 10.0 })
                .chain([Change::Color { id: target, color: Color::ALL[a.color] }])
                .collect(),
        },
    }
}

/// What every shape looks like, by id: box, turn, colour, layer, text and its size.
type Looks = (String, [f64; 4], f64, Color, i64, String, TextSize);

fn looks(board: &Board) -> Vec<Looks> {
    let mut all: Vec<Looks> = board
        .shapes()
        .map(|s| (s.id.to_string(), s.frame(), s.rotation, s.fill(), s.z, s.text.shown(), s.text_size))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// My last action undone right away puts the board back exactly (but for
    /// the order within a layer), and redone puts it forward again.
    #[test]
    fn undo_then_redo_with_nobody_in_between(script in prop::collection::vec(action(), 1..30)) {
        let (mut board, mut mine, mut made) = (Board::new(), History::new(), 0);
        for a in &script {
            let change = change_for(&board, a, &mut made);
            let before = looks(&board);
            act(&mut board, &mut mine, change);
            let after = looks(&board);
            if after == before {
                // Nothing changed, so nothing was recorded to undo.
                continue;
            }
            undo(&mut board, &mut mine);
            prop_assert_eq!(looks(&board), before);
            redo(&mut board, &mut mine);
            prop_assert_eq!(looks(&board), after);
        }
    }

    /// However my actions and another person's interleave, each undo of mine
    /// applies cleanly and leaves what the other person changed last as they
    /// left it: a shape they deleted stays deleted, and a position, colour or
    /// layer they set stays set. (A shape I created goes, by the rules,
    /// wherever they moved it.)
    #[test]
    fn undo_never_overwrites_someone_elses_later_work(
        script in prop::collection::vec(action(), 1..40),
        undos in 1usize..6,
    ) {
        let (mut board, mut mine, mut made) = (Board::new(), History::new(), 0);
        let mut last = LastSetBy::default();
        for a in &script {
            let change = change_for(&board, a, &mut made);
            let step = Step::before(&board, &change);
            let before = board.clone();
            if board.apply(&change).is_err() {
                continue;
            }
            last.note(&before, &board, !a.mine);
            if a.mine {
                mine.push(step.finish(&board), false);
            } else {
                mine.observe(&change);
            }
        }
        for _ in 0..undos {
            let was = board.clone();
            let Some(change) = mine.undo(&board) else { continue };
            prop_assert!(board.apply(&change).is_ok(), "undo made a change the board refuses: {:?}", change);
            for s in was.shapes() {
                let Some(now) = board.get(&s.id) else { continue };
                // A size set back moves the shape only as far as it must to stay on the board.
                let nudged_on = now.size() != s.size() && (now.x + now.w == BOARD_WIDTH || now.y + now.h == BOARD_HEIGHT);
                if last.theirs(&s.id, 0) && !nudged_on {
                    prop_assert_eq!((now.x, now.y), (s.x, s.y), "their move of {} undone", s.id);
                }
                if last.theirs(&s.id, 1) {
                    prop_assert_eq!(now.fill(), s.fill(), "their colour of {} undone", s.id);
                }
                if last.theirs(&s.id, 2) {
                    prop_assert_eq!(now.z, s.z, "their layer of {} undone", s.id);
                }
                if last.theirs(&s.id, 4) {
                    prop_assert_eq!(now.size(), s.size(), "their size of {} undone", s.id);
                }
                if last.theirs(&s.id, 5) {
                    prop_assert_eq!(now.rotation, s.rotation, "their turn of {} undone", s.id);
                }
                // A character whose showing or erasing was theirs last stays as they left it.
                for (c, shown) in s.text.all_ids() {
                    if last.1.get(&(s.id.clone(), c)) == Some(&true) {
                        prop_assert_eq!(now.text.is_shown(c), Some(shown), "their edit of {:?} in {} undone", c, s.id);
                    }
                }
            }
            for now in board.shapes() {
                let deleted_by_them = was.get(&now.id).is_none() && last.theirs(&now.id, 3);
                prop_assert!(!deleted_by_them, "{} came back after they deleted it", now.id);
            }
            last.note(&was, &board, false);
        }
    }
}

/// Who last set each shape's position (0), colour (1), layer (2),
/// existence (3), size (4) and turn (5), and who last wrote or erased each
/// character: whether it was the other person.
#[derive(Default)]
struct LastSetBy(std::collections::HashMap<(ShapeId, u8), bool>, LastChars);

type LastChars = std::collections::HashMap<(ShapeId, CharId), bool>;

impl LastSetBy {
    fn note(&mut self, before: &Board, after: &Board, theirs: bool) {
        let ids: Vec<ShapeId> = before.shapes().chain(after.shapes()).map(|s| s.id.clone()).collect();
        for id in ids {
            let changed: Vec<u8> = match (before.get(&id), after.get(&id)) {
                (Some(b), Some(a)) => [
                    ((b.x, b.y) != (a.x, a.y), 0),
                    (b.fill() != a.fill(), 1),
                    (b.z != a.z, 2),
                    (b.size() != a.size(), 4),
                    (b.rotation != a.rotation, 5),
                ]
                .into_iter()
                .filter_map(|(changed, p)| changed.then_some(p))
                .collect(),
                (None, None) => vec![],
                _ => vec![0, 1, 2, 3, 4, 5],
            };
            for p in changed {
                self.0.insert((id.clone(), p), theirs);
            }
            if let (Some(b), Some(a)) = (before.get(&id), after.get(&id)) {
                for (c, shown) in a.text.all_ids() {
                    if b.text.is_shown(c) != Some(shown) {
                        self.1.insert((id.clone(), c), theirs);
                    }
                }
            }
        }
    }

    fn theirs(&self, id: &ShapeId, property: u8) -> bool {
        self.0.get(&(id.clone(), property)).copied().unwrap_or(false)
    }
}

#[test]
fn a_history_kept_across_a_reload_still_undoes() {
    let (mut board, mut mine) = (Board::new(), History::new());
    act(&mut board, &mut mine, create("a", 100.0));
    act(&mut board, &mut mine, moved("a", 200.0));
    undo(&mut board, &mut mine);
    // What the tab keeps in its storage, read back by the reloaded page.
    let mut reloaded: History = serde_json::from_str(&serde_json::to_string(&mine).unwrap()).unwrap();
    assert_eq!(reloaded, mine);
    redo(&mut board, &mut reloaded);
    assert_eq!(x_of(&board, "a"), Some(200.0));
    undo(&mut board, &mut reloaded);
    undo(&mut board, &mut reloaded);
    assert!(board.get(&id("a")).is_none());
}
