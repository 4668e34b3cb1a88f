//! The room actor driven at its own interface, with a real store: what no
//! socket test can reach in reasonable time (a queue filling up) or at all
//! (time itself, paused).
#![allow(clippy::unwrap_used)] // tests unwrap what must hold

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, oneshot};

use super::{ConnId, JoinError, Room, RoomCmd, RoomLimits, RoomStats};
use crate::model::{Change, ClientId, RoomName, Shape, ShapeId, ShapeKind};
use crate::protocol::{Position, ServerMsg};
use crate::server::connection::OUTBOUND_QUEUE;
use crate::server::storage::Store;

const LIMITS: RoomLimits = RoomLimits { idle_grace: Duration::from_secs(30), max_rooms: 10, max_members: 10 };

/// A running room on a fresh database, and a flag its retirement sets.
fn start_room(dir: &tempfile::TempDir, name: &str) -> (mpsc::Sender<RoomCmd>, Arc<AtomicBool>) {
    let url = format!("sqlite://{}", dir.path().join("board.db").display());
    let store = Store::open(&url).unwrap();
    let retired = Arc::new(AtomicBool::new(false));
    let flag = retired.clone();
    let retire = Box::new(move || flag.store(true, Ordering::SeqCst));
    let room = Room::new(RoomName::parse(name).unwrap(), store, Arc::new(RoomStats::default()), LIMITS, retire);
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(room.run(rx));
    (tx, retired)
}

async fn join(
    room: &mpsc::Sender<RoomCmd>,
    member: u64,
    client: &str,
    at: Option<Position>,
) -> Result<mpsc::Receiver<Utf8Bytes>, JoinError> {
    let (out, queue) = mpsc::channel(OUTBOUND_QUEUE);
    let (reply, answer) = oneshot::channel();
    let (member, client) = (ConnId(member), ClientId::parse(client).unwrap());
    room.send(RoomCmd::Join { member, client, at, out, reply }).await.unwrap();
    answer.await.unwrap().map(|()| queue)
}

fn read(text: &Utf8Bytes) -> ServerMsg {
    ServerMsg::decode(text).unwrap()
}

/// A member that stops reading while the room is busy: once its outbound
/// queue fills, the room drops it rather than skip a change for it. What it
/// did get is a gapless prefix of the stream, and a rejoin from the last
/// change it saw brings it back in step. (Over a socket the kernel's buffers
/// absorb hundreds of kilobytes before a queue could fill.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_is_dropped_not_skipped_and_then_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (room, _) = start_room(&dir, "busy");
    let mut slow = join(&room, 1, "slow", None).await.unwrap();
    let mut busy = join(&room, 2, "busy", None).await.unwrap();

    let id = ShapeId::parse("s").unwrap();
    let total = 2 * OUTBOUND_QUEUE as u64;
    for op in 1..=total {
        let change = if op == 1 {
            Change::Create { shape: Shape { id: id.clone(), kind: ShapeKind::Circle, x: 0.0, y: 0.0 } }
        } else {
            Change::Move { id: id.clone(), x: (op % 1400) as f64, y: 0.0 }
        };
        room.send(RoomCmd::Change { member: ConnId(2), op, change }).await.unwrap();
        // The busy member keeps up.
        while busy.try_recv().is_ok() {}
    }

    // The slow member's queue holds a gapless prefix, then is closed.
    let (mut seqs, mut epoch) = (Vec::new(), None);
    while let Some(text) = tokio::time::timeout(Duration::from_secs(10), slow.recv()).await.expect("closed in time") {
        match read(&text) {
            ServerMsg::Applied { seq, .. } => seqs.push(seq),
            ServerMsg::Welcome { epoch: e, .. } => epoch = Some(e),
            _ => {}
        }
    }
    let seen = seqs.len() as u64;
    assert!(seen < total, "dropped before the end of the stream");
    assert_eq!(seqs, (1..=seen).collect::<Vec<_>>(), "what it got has no gaps");

    let at = Some(Position { epoch: epoch.expect("the welcome came first"), seq: seen });
    let mut again = join(&room, 3, "slow", at).await.unwrap();
    let caught_up_to = match read(&again.recv().await.unwrap()) {
        ServerMsg::CatchUp { from, changes, .. } => from + changes.len() as u64,
        ServerMsg::Welcome { seq, .. } => seq,
        other => panic!("expected an answer to hello, got {other:?}"),
    };
    assert_eq!(caught_up_to, total, "back in step");
}

/// An empty room stays loaded for its grace period, so a reload or a quick
/// reconnect finds it warm, and retires after it. Time is paused: the test
/// waits on the room's own timer, not on the clock.
#[tokio::test(start_paused = true)]
async fn an_empty_room_retires_after_its_grace_period_and_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let (room, retired) = start_room(&dir, "nap");
    let queue = join(&room, 1, "a", None).await.unwrap();
    drop(queue);
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
