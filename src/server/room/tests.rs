//! The room actor driven at its own interface, with a real store: what no
//! socket test can reach in reasonable time (a queue filling up) or at all
//! (time itself, paused).
#![allow(clippy::unwrap_used)] // tests unwrap what must hold

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{ConnId, Cursor, JoinError, Read, Room, RoomCmd, RoomLimits, RoomStats, Shared};
use crate::server::connection::OUTBOUND_QUEUE;
use crate::server::fairness::{AddressLimits, Fairness, Network};
use crate::server::frame::Frame;
use crate::server::metrics::Metrics;
use crate::server::peers::Alone;
use crate::server::storage::sqlite::SqliteStore;
use sketchboard_core::model::{Change, ClientId, RoomName, Shape, ShapeId, ShapeKind};
use sketchboard_core::protocol::{Position, ServerMsg};

const LIMITS: RoomLimits = RoomLimits { idle_grace: Duration::from_secs(30), max_rooms: 10, max_members: 10 };

/// A running room on a fresh database, and a flag its retirement sets.
fn start_room(dir: &tempfile::TempDir, name: &str) -> (mpsc::Sender<RoomCmd>, Arc<AtomicBool>) {
    let url = format!("sqlite://{}", dir.path().join("board.db").display());
    let store = Arc::new(SqliteStore::open(&url).unwrap());
    let retired = Arc::new(AtomicBool::new(false));
    let flag = retired.clone();
    let retire = Box::new(move || flag.store(true, Ordering::SeqCst));
    let fairness =
        Fairness::new(AddressLimits { max_connections: 10, rooms_opened_per_minute: 10, rooms_created_per_hour: 10 });
    let stats = Arc::new(RoomStats::default());
    let shared =
        Shared { store, peers: Arc::new(Alone), fairness, metrics: Metrics::new(), room_presence: Default::default() };
    let room = Room::new(RoomName::parse(name).unwrap(), shared, stats, LIMITS, retire);
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(room.run(rx));
    (tx, retired)
}

async fn join(
    room: &mpsc::Sender<RoomCmd>,
    member: u64,
    client: &str,
    at: Option<Position>,
) -> Result<(mpsc::Receiver<Frame>, Cursor), JoinError> {
    let (out, queue) = mpsc::channel(OUTBOUND_QUEUE);
    let (reply, answer) = oneshot::channel();
    let (member, client) = (ConnId(member), ClientId::parse(client).unwrap());
    let network = Network::of(std::net::Ipv4Addr::LOCALHOST.into());
    room.send(RoomCmd::Join { member, client, network, at, viewer: false, out, reply }).await.unwrap();
    answer.await.unwrap().map(|cursor| (queue, cursor))
}

/// The next applied change a cursor reads, skipping presence.
async fn next_applied(cursor: &mut Cursor, pending: &mut std::collections::VecDeque<Frame>) -> ServerMsg {
    loop {
        if let Some(text) = pending.pop_front() {
            let msg = read(&text);
            if matches!(msg, ServerMsg::Applied { .. }) {
                return msg;
            }
            continue;
        }
        // No timeout here: one test runs on paused time, where waiting on the disk lets time jump.
        match cursor.read(64).await {
            Read::Messages(batch) => pending.extend(batch),
            other => panic!("expected messages, got {other:?}"),
        }
    }
}

fn read(text: &Frame) -> ServerMsg {
    ServerMsg::decode(text).unwrap()
}

/// A member that does not read while the room is busy misses nothing: the
/// changes wait in the room's feed, which holds far more than a burst, and it
/// reads them in order when it gets to them. A rejoin from any change it saw
/// brings exactly the rest. (That a member too far behind for the feed must
/// resync is the feed's own test.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_behind_reads_the_burst_it_missed_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (room, _) = start_room(&dir, "busy");
    let (mut welcome, mut slow) = join(&room, 1, "slow", None).await.unwrap();
    let epoch = match read(&welcome.recv().await.unwrap()) {
        ServerMsg::Welcome { epoch, .. } => epoch,
        other => panic!("expected a welcome, got {other:?}"),
    };
    let (_busy_queue, _busy) = join(&room, 2, "busy", None).await.unwrap();

    let id = ShapeId::parse("s").unwrap();
    let total = 2000u64;
    for op in 1..=total {
        let change = if op == 1 {
            Change::Create { shape: Shape::new(id.clone(), ShapeKind::Circle, 0.0, 0.0) }
        } else {
            Change::Move { id: id.clone(), x: (op % 1400) as f64, y: 0.0 }
        };
        room.send(RoomCmd::Change { member: ConnId(2), op, change, keep: None }).await.unwrap();
    }
    let reading = async {
        let mut pending = Default::default();
        for expected in 1..=total {
            match next_applied(&mut slow, &mut pending).await {
                ServerMsg::Applied { seq, .. } => assert_eq!(seq, expected, "in order, nothing skipped"),
                other => panic!("{other:?}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), reading).await.expect("read in time");

    let at = Some(Position { epoch, seq: total - 10 });
    let (mut again, _) = join(&room, 3, "slow", at).await.unwrap();
    match read(&again.recv().await.unwrap()) {
        ServerMsg::CatchUp { from, changes, .. } => assert_eq!((from, changes.len()), (total - 10, 10)),
        other => panic!("expected a catch-up, got {other:?}"),
    }
}

/// An empty room stays loaded for its grace period, so a reload or a quick
/// reconnect finds it warm, and retires after it. Time is paused: the test
/// waits on the room's own timer, not on the clock.
#[tokio::test(start_paused = true)]
async fn an_empty_room_retires_after_its_grace_period_and_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let (room, retired) = start_room(&dir, "nap");
    let (_queue, mut cursor) = join(&room, 1, "a", None).await.unwrap();
    let shape = Shape::new(ShapeId::parse("s").unwrap(), ShapeKind::Circle, 0.0, 0.0);
    room.send(RoomCmd::Change { member: ConnId(1), op: 1, change: Change::Create { shape }, keep: None })
        .await
        .unwrap();
    let mut pending = Default::default();
    next_applied(&mut cursor, &mut pending).await;
    room.send(RoomCmd::Leave { member: ConnId(1) }).await.unwrap();
    tokio::time::sleep(LIMITS.idle_grace - Duration::from_secs(1)).await;
    assert!(!retired.load(Ordering::SeqCst), "retired before its grace period ended");
    // A visitor within the grace period keeps it loaded, and starts it afresh.
    let _visitor = join(&room, 2, "b", None).await.unwrap();
    tokio::time::sleep(LIMITS.idle_grace * 2).await;
    assert!(!retired.load(Ordering::SeqCst), "retired with a member in it");
    room.send(RoomCmd::Leave { member: ConnId(2) }).await.unwrap();
    tokio::time::sleep(LIMITS.idle_grace + Duration::from_secs(1)).await;
    assert!(retired.load(Ordering::SeqCst), "still loaded after its grace period");
    assert!(room.is_closed(), "a retired room takes no more commands");
}

/// A room nobody ever changed has nothing worth keeping: it gives its slot
/// back the moment its last member leaves.
#[tokio::test]
async fn a_never_edited_room_retires_as_soon_as_it_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (room, retired) = start_room(&dir, "visit");
    let _queue = join(&room, 1, "a", None).await.unwrap();
    room.send(RoomCmd::Leave { member: ConnId(1) }).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), room.closed()).await.expect("retired without waiting");
    assert!(retired.load(Ordering::SeqCst));
}
