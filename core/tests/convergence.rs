//! Property tests of the shared model and the client session: however
//! several tabs' changes interleave, and wherever their connections drop,
//! every tab's view ends equal to the server's board, with nothing pending and
//! nothing applied twice.
//!
//! Each tab is a `Session`, the very object the browser drives. The "network"
//! is a pair of FIFO queues per tab and the "server" follows the room actor's
//! rules (validate, number, remember each tab's last op, answer a hello that
//! gives `since` with the missed changes), so the test explores message orders
//! and drops directly: each step, proptest chooses who acts next. Tabs also
//! colour, restack and batch, and undo and redo their own steps through their
//! `History`, as the browser does.
#![allow(clippy::unwrap_used)] // tests unwrap what must hold

use std::collections::VecDeque;

use proptest::prelude::*;
use sketchboard_core::model::{Board, Change, CharId, ClientId, Color, RoomName, Run, Shape, ShapeId, ShapeKind};
use sketchboard_core::protocol::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg};
use sketchboard_core::session::{Event, Phase, Session};
use sketchboard_core::undo::{History, Step as UndoStep};

/// One step of the simulation.
#[derive(Debug, Clone)]
enum Step {
    /// Tab `who` makes a change: `what` picks create / move / delete / colour
    /// / layer / a batch / undo / redo / resize / turn / write / erase, `pick`
    /// which shape, (`x`, `y`) where (possibly off the board, to be refused;
    /// for text, `x` picks the place).
    Local { who: usize, what: u8, pick: usize, x: f64, y: f64, kind: usize },
    /// The server takes the next message from tab `who`.
    Serve { who: usize },
    /// Tab `who` reads the next message the server sent it.
    Deliver { who: usize },
    /// Tab `who`'s connection drops, losing whatever was in flight either
    /// way; its changes wait until it reconnects.
    Drop { who: usize },
    /// Tab `who` (dropping its connection first, if it has one) connects,
    /// says hello, takes the answer and re-sends what the room lacks.
    Reconnect { who: usize },
}

const EPOCH: u64 = 77;

fn step(tabs: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..tabs, 0u8..12, 0usize..16, -50.0..1600.0f64, -50.0..1000.0f64, 0usize..3)
            .prop_map(|(who, what, pick, x, y, kind)| Step::Local { who, what, pick, x, y, kind }),
        4 => (0..tabs).prop_map(|who| Step::Serve { who }),
        4 => (0..tabs).prop_map(|who| Step::Deliver { who }),
        1 => (0..tabs).prop_map(|who| Step::Drop { who }),
        1 => (0..tabs).prop_map(|who| Step::Reconnect { who }),
    ]
}

struct World {
    board: Board,
    /// Every change the server accepted, in order: change `i + 1` is `log[i]`.
    log: Vec<Change>,
    /// The server's last accepted op per tab.
    last_ops: Vec<u64>,
    /// Every (tab, op) the server applied: none may appear twice.
    applied: std::collections::HashSet<(usize, u64)>,
    tabs: Vec<Session>,
    histories: Vec<History>,
    up: Vec<VecDeque<(u64, Change)>>,
    down: Vec<VecDeque<ServerMsg>>,
    next_shape: usize,
    /// Each tab's count of the characters it has written (its writer number is its index + 1).
    written: Vec<u32>,
    /// Every write a tab made: the character it went after, and its first character.
    writes: Vec<(Option<CharId>, CharId)>,
}

impl World {
    fn new(n: usize) -> World {
        let mut world = World {
            board: Board::new(),
            log: Vec::new(),
            last_ops: vec![0; n],
            applied: Default::default(),
            tabs: (0..n).map(|i| Session::new(ClientId::parse(format!("tab{i}")).unwrap())).collect(),
            histories: vec![History::new(); n],
            up: vec![VecDeque::new(); n],
            down: (0..n).map(|_| VecDeque::new()).collect(),
            next_shape: 0,
            written: vec![0; n],
            writes: Vec::new(),
        };
        for who in 0..n {
            world.run(&Step::Reconnect { who });
        }
        world
    }

    fn seq(&self) -> u64 {
        self.log.len() as u64
    }

    fn send(&mut self, who: usize, msgs: Vec<ClientMsg>) {
        for msg in msgs {
            match msg {
                ClientMsg::Change { op, change } => self.up[who].push_back((op, change)),
                other => panic!("tab {who} sent {other:?} mid-stream"),
            }
        }
    }

    /// The server's answer to a hello, as the room actor gives it: a
    /// catch-up, or a welcome and its board in parts.
    fn answer(&self, who: usize, hello: ClientMsg) -> Vec<ServerMsg> {
        let ClientMsg::Hello { since, epoch, .. } = hello else { panic!("tab {who} did not start with hello") };
        let (room, last_op, members) = (RoomName::parse("r").unwrap(), self.last_ops[who], 1);
        match (since, epoch) {
            (Some(from), Some(EPOCH)) if from <= self.seq() => {
                let changes = self.log[from as usize..].to_vec();
                vec![ServerMsg::CatchUp { version: PROTOCOL_VERSION, room, from, changes, members, last_op }]
            }
            _ => {
                // Small parts, so that several-part boards are exercised too.
                let seq = self.seq();
                let shapes: Vec<Shape> = self.board.shapes().cloned().collect();
                let parts: Vec<&[Shape]> = if shapes.is_empty() { vec![&[]] } else { shapes.chunks(2).collect() };
                let count = parts.len() as u32;
                let welcome = ServerMsg::Welcome {
                    version: PROTOCOL_VERSION,
                    room,
                    seq,
                    epoch: EPOCH,
                    members,
                    last_op,
                    parts: count,
                };
                let board = parts.into_iter().enumerate().map(|(part, shapes)| ServerMsg::Board {
                    seq,
                    part: part as u32,
                    shapes: shapes.to_vec(),
                });
                std::iter::once(welcome).chain(board).collect()
            }
        }
    }

    fn run(&mut self, step: &Step) {
        match *step {
            Step::Local { who, what: 6, .. } => {
                let undone = self.histories[who].undo(self.tabs[who].view());
                let made = undone.map(|change| self.tabs[who].change(change));
                match made {
                    Some(Ok(made)) => self.send(who, made.send),
                    Some(Err(_)) => self.histories[who].forget_last_redo(),
                    None => {}
                }
            }
            Step::Local { who, what: 7, .. } => {
                let redone = self.histories[who].redo(self.tabs[who].view());
                let made = redone.map(|change| self.tabs[who].change(change));
                match made {
                    Some(Ok(made)) => self.send(who, made.send),
                    Some(Err(_)) => self.histories[who].forget_last_undo(),
                    None => {}
                }
            }
            Step::Local { who, what, pick, x, y, kind } => {
                let view = self.tabs[who].view();
                let ids: Vec<ShapeId> = view.shapes().map(|s| s.id.clone()).collect();
                let change = match (what, ids.get(pick % ids.len().max(1))) {
                    (1, Some(id)) => Change::Move { id: id.clone(), x, y },
                    (2, Some(id)) => Change::Delete { id: id.clone() },
                    (3, Some(id)) => Change::Color { id: id.clone(), color: Color::ALL[pick % Color::ALL.len()] },
                    (4, Some(id)) => Change::Layer { id: id.clone(), z: view.top_layer() + 1 },
                    (8, Some(id)) => {
                        let (w, h) = (10.0 + (pick * 37 % 300) as f64, 10.0 + (kind * 90) as f64);
                        Change::Resize { id: id.clone(), x, y, w, h }
                    }
                    (9, Some(id)) => Change::Rotate { id: id.clone(), rotation: x.rem_euclid(360.0) },
                    (10, Some(id)) => {
                        // One or two letters, at a place picked among the shown ones.
                        let shown: Vec<CharId> = view.get(id).unwrap().text.shown_ids().collect();
                        let place = (x.abs() as usize) % (shown.len() + 1);
                        let after = place.checked_sub(1).map(|i| shown[i]);
                        let text = ["a", "bc", "é", "😀"][kind % 4].to_owned();
                        let at = CharId(who as u32 + 1, self.written[who]);
                        self.written[who] += text.chars().count() as u32;
                        self.writes.push((after, at));
                        Change::Write { id: id.clone(), after, at, text }
                    }
                    (11, Some(id)) => {
                        let shown: Vec<CharId> = view.get(id).unwrap().text.shown_ids().collect();
                        match shown.get((x.abs() as usize) % shown.len().max(1)) {
                            Some(c) => Change::Erase { id: id.clone(), chars: vec![Run(c.0, c.1, 1)] },
                            None => return,
                        }
                    }
                    (5, Some(id)) => Change::Batch {
                        changes: vec![
                            Change::Move { id: id.clone(), x, y },
                            Change::Color { id: id.clone(), color: Color::ALL[kind] },
                        ],
                    },
                    _ => {
                        self.next_shape += 1;
                        let id = ShapeId::parse(format!("s{}", self.next_shape)).unwrap();
                        let kind = ShapeKind::ALL[kind % ShapeKind::ALL.len()];
                        Change::Create { shape: Shape::new(id, kind, x.max(0.0), y.max(0.0)) }
                    }
                };
                let step = UndoStep::before(view, &change);
                if let Ok(made) = self.tabs[who].change(change) {
                    self.histories[who].push(step.finish(self.tabs[who].view()), false);
                    self.send(who, made.send);
                }
            }
            Step::Serve { who } => {
                let Some((op, change)) = self.up[who].pop_front() else { return };
                // The server refuses these (tests/it/sockets.rs checks that); an
                // honest session, fed `last_op` in its welcome, never sends one.
                assert!(op > self.last_ops[who], "tab {who} re-sent op {op}, which the server already has");
                match self.board.apply(&change) {
                    Ok(()) => {
                        self.log.push(change.clone());
                        self.last_ops[who] = op;
                        assert!(self.applied.insert((who, op)), "tab {who}'s op {op} applied twice");
                        let seq = self.seq();
                        for (to, down) in self.down.iter_mut().enumerate() {
                            if self.tabs[to].phase() != Phase::Offline {
                                let op = (to == who).then_some(op);
                                down.push_back(ServerMsg::Applied { seq, op, change: change.clone(), by: None });
                            }
                        }
                    }
                    Err(e) => {
                        let code = ErrorCode::for_change_error(&e);
                        self.down[who].push_back(ServerMsg::error(code, e.to_string(), Some(op)));
                    }
                }
            }
            Step::Drop { who } => {
                self.up[who].clear();
                self.down[who].clear();
                self.tabs[who].disconnected();
            }
            Step::Reconnect { who } => {
                self.run(&Step::Drop { who });
                let hello = self.tabs[who].hello();
                let mut joined = false;
                for msg in self.answer(who, hello) {
                    match self.tabs[who].receive(msg) {
                        Event::Joined { resend, .. } => {
                            joined = true;
                            for msg in resend {
                                self.send(who, vec![msg]);
                            }
                        }
                        Event::Members(_) => {}
                        other => panic!("tab {who}'s hello was answered with {other:?}"),
                    }
                }
                assert!(joined, "tab {who} joined once its answer was in");
            }
            Step::Deliver { who } => {
                let Some(msg) = self.down[who].pop_front() else { return };
                match self.tabs[who].receive(msg) {
                    Event::Applied { change, own: None, .. } => self.histories[who].observe(&change),
                    Event::Applied { .. } | Event::Refused { .. } => {}
                    other => panic!("tab {who} took the server's stream as {other:?}"),
                }
            }
        }
    }

    /// Reconnects every dropped tab and lets every queued message through, in order.
    fn quiesce(&mut self) {
        for who in 0..self.tabs.len() {
            if self.tabs[who].phase() == Phase::Offline {
                self.run(&Step::Reconnect { who });
            }
        }
        while self.up.iter().any(|q| !q.is_empty()) || self.down.iter().any(|q| !q.is_empty()) {
            for who in 0..self.tabs.len() {
                self.run(&Step::Serve { who });
                self.run(&Step::Deliver { who });
            }
        }
    }
}

/// Steps of two or three people writing in one note: typing (at any place),
/// erasing, undoing and redoing, with deliveries, drops and reconnects.
fn typing_step(tabs: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..tabs, 0.0..1000.0f64, 0usize..4).prop_map(|(who, x, kind)| Step::Local { who, what: 10, pick: 0, x, y: 0.0, kind }),
        2 => (0..tabs, 0.0..1000.0f64).prop_map(|(who, x)| Step::Local { who, what: 11, pick: 0, x, y: 0.0, kind: 0 }),
        1 => (0..tabs, 6u8..8).prop_map(|(who, what)| Step::Local { who, what, pick: 0, x: 0.0, y: 0.0, kind: 0 }),
        4 => (0..tabs).prop_map(|who| Step::Serve { who }),
        4 => (0..tabs).prop_map(|who| Step::Deliver { who }),
        1 => (0..tabs).prop_map(|who| Step::Drop { who }),
        1 => (0..tabs).prop_map(|who| Step::Reconnect { who }),
    ]
}

/// Every tab shows the server's board, as of its last change, with nothing pending.
fn all_agree(world: &World) -> Result<(), TestCaseError> {
    for (i, tab) in world.tabs.iter().enumerate() {
        prop_assert_eq!(tab.view(), &world.board, "tab {} differs from the server", i);
        prop_assert_eq!(tab.pending(), 0);
        prop_assert_eq!(tab.replica().seq(), world.seq());
    }
    Ok(())
}

/// Every write's characters stand after the character it went after, in
/// every text that holds both: each writer's characters keep their order.
fn writes_keep_their_order(world: &World) -> Result<(), TestCaseError> {
    for shape in world.board.shapes() {
        let order: std::collections::HashMap<CharId, usize> =
            shape.text.all_ids().enumerate().map(|(i, (id, _))| (id, i)).collect();
        for (after, at) in &world.writes {
            if let (Some(after), Some(at)) = (after.and_then(|a| order.get(&a)), order.get(at)) {
                prop_assert!(after < at, "a write went before the character it followed in {}", shape.id);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Two or three people typing in one note at once, with drops and
    /// reconnects, undoing and redoing: every tab ends with the server's text,
    /// every letter typed and not erased is there once, and each writer's
    /// letters keep their order.
    #[test]
    fn writers_in_one_note_converge_keeping_every_letter(
        (tabs, steps) in (2usize..=3).prop_flat_map(|n| (Just(n), prop::collection::vec(typing_step(n), 0..300)))
    ) {
        let mut world = World::new(tabs);
        world.run(&Step::Local { who: 0, what: 0, pick: 0, x: 100.0, y: 100.0, kind: 0 });
        world.quiesce();
        // The note stays: nobody's undo takes it away.
        world.histories[0] = History::new();
        for s in &steps {
            world.run(s);
        }
        world.quiesce();
        all_agree(&world)?;
        let note = world.board.shapes().next().unwrap();
        let kept = note.text.all_ids().count();
        let unique: std::collections::HashSet<CharId> = note.text.all_ids().map(|(id, _)| id).collect();
        prop_assert_eq!(unique.len(), kept, "a character twice");
        let typed: u32 = world.written.iter().sum();
        prop_assert_eq!(kept as u32, typed, "every character written is kept, shown or erased");
        writes_keep_their_order(&world)?;
    }

    #[test]
    fn sessions_converge_on_the_servers_board(
        (tabs, steps) in (2usize..=5).prop_flat_map(|n| (Just(n), prop::collection::vec(step(n), 0..200)))
    ) {
        let mut world = World::new(tabs);
        for s in &steps {
            world.run(s);
        }
        world.quiesce();
        all_agree(&world)?;
        writes_keep_their_order(&world)?;
    }

    /// A move, a colour and a layer on one shape commute (docs/protocol.md:
    /// they set different fields): every order of the three gives one board.
    #[test]
    fn colour_layer_and_move_commute(x in 0.0..1400.0f64, y in 0.0..800.0f64, c in 0usize..9, z in -1000i64..1000) {
        let id = ShapeId::parse("a").unwrap();
        let changes = [
            Change::Move { id: id.clone(), x, y },
            Change::Color { id: id.clone(), color: Color::ALL[c] },
            Change::Layer { id: id.clone(), z },
        ];
        let mut boards = Vec::new();
        for order in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
            let mut board = Board::new();
            board.apply(&Change::Create { shape: Shape::new(id.clone(), ShapeKind::Circle, 5.0, 5.0) }).unwrap();
            for i in order {
                board.apply(&changes[i]).unwrap();
            }
            boards.push(board);
        }
        prop_assert!(boards.windows(2).all(|w| w[0] == w[1]), "{:?}", boards);
    }

    /// Whatever `hit_test` returns contains the point, and no shape drawn above it does.
    #[test]
    fn hit_test_returns_the_topmost_shape_under_the_point(
        placed in prop::collection::vec((0usize..3, 0.0..1440.0f64, 0.0..880.0f64), 0..40),
        px in 0.0..1600.0f64,
        py in 0.0..1000.0f64,
    ) {
        let mut board = Board::new();
        for (i, (kind, x, y)) in placed.iter().enumerate() {
            let shape = Shape::new(ShapeId::parse(format!("s{i}")).unwrap(), ShapeKind::ALL[*kind], *x, *y);
            board.apply(&Change::Create { shape }).unwrap();
        }
        let shapes: Vec<&Shape> = board.shapes().collect();
        match board.hit_test(px, py) {
            Some(hit) => {
                prop_assert!(hit.contains(px, py));
                let at = shapes.iter().position(|s| s.id == hit.id).unwrap();
                prop_assert!(shapes[at + 1..].iter().all(|s| !s.contains(px, py)));
            }
            None => prop_assert!(shapes.iter().all(|s| !s.contains(px, py))),
        }
    }

    /// Any change that `apply` refuses leaves the board exactly as it was.
    #[test]
    fn refused_changes_change_nothing(
        x in prop::num::f64::ANY,
        y in prop::num::f64::ANY,
        target in 0usize..3,
    ) {
        let mut board = Board::new();
        let shape = Shape::new(ShapeId::parse("a").unwrap(), ShapeKind::Circle, 10.0, 10.0);
        board.apply(&Change::Create { shape }).unwrap();
        let before = board.clone();
        let id = ShapeId::parse(["a", "b", "c"][target]).unwrap();
        if board.apply(&Change::Move { id, x, y }).is_err() {
            prop_assert_eq!(&board, &before);
        } else {
            prop_assert!(x.is_finite() && y.is_finite());
        }
    }
}
