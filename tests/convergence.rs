//! Property tests of the shared model: however several tabs' changes
//! interleave, and wherever their connections drop, applying them in the
//! server's order leaves every tab's replica equal to the server's board, with
//! nothing pending and nothing applied twice.
//!
//! The "network" here is a set of FIFO queues and the "server" follows the
//! room actor's rules (validate, number, remember each tab's last op), so the
//! test explores message orders and drops directly: each step, proptest
//! chooses who acts next.

use std::collections::VecDeque;

use proptest::prelude::*;
use sketchboard::model::{Board, Change, Replica, Shape, ShapeId, ShapeKind};

/// One step of the simulation.
#[derive(Debug, Clone)]
enum Step {
    /// Tab `who` makes a change: `what` picks create / move / delete, `pick`
    /// which shape, (`x`, `y`) where (possibly off the board, to be refused).
    Local { who: usize, what: u8, pick: usize, x: f64, y: f64, kind: usize },
    /// The server takes the next message from tab `who`.
    Serve { who: usize },
    /// Tab `who` reads the next message the server sent it.
    Deliver { who: usize },
    /// Tab `who`'s connection drops, losing whatever was in flight either way;
    /// it reconnects, gets a welcome, and re-sends its pending changes.
    Reconnect { who: usize },
}

enum Down {
    Applied { seq: u64, op: Option<u64>, change: Change },
    Refused { op: u64 },
}

fn step(tabs: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..tabs, 0u8..3, 0usize..16, -50.0..1600.0f64, -50.0..1000.0f64, 0usize..3)
            .prop_map(|(who, what, pick, x, y, kind)| Step::Local { who, what, pick, x, y, kind }),
        4 => (0..tabs).prop_map(|who| Step::Serve { who }),
        4 => (0..tabs).prop_map(|who| Step::Deliver { who }),
        1 => (0..tabs).prop_map(|who| Step::Reconnect { who }),
    ]
}

struct World {
    board: Board,
    seq: u64,
    /// The server's last accepted op per tab.
    last_ops: Vec<u64>,
    /// Every (tab, op) the server applied: none may appear twice.
    applied: std::collections::HashSet<(usize, u64)>,
    tabs: Vec<Replica>,
    up: Vec<VecDeque<(u64, Change)>>,
    down: Vec<VecDeque<Down>>,
    next_shape: usize,
}

impl World {
    fn new(n: usize) -> World {
        World {
            board: Board::new(),
            seq: 0,
            last_ops: vec![0; n],
            applied: Default::default(),
            tabs: (0..n).map(|_| Replica::new()).collect(),
            up: vec![VecDeque::new(); n],
            down: (0..n).map(|_| VecDeque::new()).collect(),
            next_shape: 0,
        }
    }

    fn run(&mut self, step: &Step) {
        match *step {
            Step::Local { who, what, pick, x, y, kind } => {
                let view = self.tabs[who].view();
                let ids: Vec<ShapeId> = view.shapes().map(|s| s.id.clone()).collect();
                let change = match (what, ids.get(pick % ids.len().max(1))) {
                    (1, Some(id)) => Change::Move { id: id.clone(), x, y },
                    (2, Some(id)) => Change::Delete { id: id.clone() },
                    _ => {
                        self.next_shape += 1;
                        let id = ShapeId::parse(format!("s{}", self.next_shape)).unwrap();
                        Change::Create { shape: Shape { id, kind: ShapeKind::ALL[kind], x: x.max(0.0), y: y.max(0.0) } }
                    }
                };
                if let Ok(op) = self.tabs[who].local(change.clone()) {
                    self.up[who].push_back((op, change));
                }
            }
            Step::Serve { who } => {
                let Some((op, change)) = self.up[who].pop_front() else { return };
                // The server refuses these (tests/sockets.rs checks that); an
                // honest replica, fed `last_op` in its welcome, never sends one.
                assert!(op > self.last_ops[who], "tab {who} re-sent op {op}, which the server already has");
                match self.board.apply(&change) {
                    Ok(()) => {
                        self.seq += 1;
                        self.last_ops[who] = op;
                        assert!(self.applied.insert((who, op)), "tab {who}'s op {op} applied twice");
                        for (to, down) in self.down.iter_mut().enumerate() {
                            let op = (to == who).then_some(op);
                            down.push_back(Down::Applied { seq: self.seq, op, change: change.clone() });
                        }
                    }
                    Err(_) => self.down[who].push_back(Down::Refused { op }),
                }
            }
            Step::Reconnect { who } => {
                self.up[who].clear();
                self.down[who].clear();
                self.tabs[who].reset(self.seq, self.board.clone(), self.last_ops[who]);
                self.up[who].extend(self.tabs[who].pending().cloned());
            }
            Step::Deliver { who } => {
                let Some(msg) = self.down[who].pop_front() else { return };
                match msg {
                    Down::Applied { seq, op, change } => {
                        self.tabs[who].applied(seq, op, &change).expect("server order applies");
                    }
                    Down::Refused { op } => self.tabs[who].rejected(op),
                }
            }
        }
    }

    /// Lets every queued message through, in order.
    fn quiesce(&mut self) {
        while self.up.iter().any(|q| !q.is_empty()) || self.down.iter().any(|q| !q.is_empty()) {
            for who in 0..self.tabs.len() {
                self.run(&Step::Serve { who });
                self.run(&Step::Deliver { who });
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_on_the_servers_board(
        (tabs, steps) in (2usize..=5).prop_flat_map(|n| (Just(n), prop::collection::vec(step(n), 0..200)))
    ) {
        let mut world = World::new(tabs);
        for s in &steps {
            world.run(s);
        }
        world.quiesce();
        for (i, tab) in world.tabs.iter().enumerate() {
            prop_assert_eq!(tab.view(), &world.board, "tab {} differs from the server", i);
            prop_assert_eq!(tab.pending().len(), 0);
            prop_assert_eq!(tab.seq(), world.seq);
        }
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
            let shape = Shape { id: ShapeId::parse(format!("s{i}")).unwrap(), kind: ShapeKind::ALL[*kind], x: *x, y: *y };
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
        let shape = Shape { id: ShapeId::parse("a").unwrap(), kind: ShapeKind::Circle, x: 10.0, y: 10.0 };
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
