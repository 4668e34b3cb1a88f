//! Crash safety: the server process is killed with SIGKILL while several tabs
//! are sending, again and again, and restarted on the same database each
//! time. Afterwards every change any tab saw acknowledged is in the log exactly
//! once, at the sequence number it was acknowledged with; every change any tab
//! made (acknowledged or still pending at a kill) is there exactly once; and
//! every tab, the server and the stored log agree on the board.

use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use crate::common::tab::Tab;
use crate::common::{Dice, PATIENCE, stored_log};
use sketchboard_core::model::{Board, Change, Shape, ShapeId, ShapeKind};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

/// Acknowledgements seen by all tabs so far, for the test to wait on.
pub(crate) type Acks = Arc<watch::Sender<usize>>;

const TABS: usize = 4;
const KILLS: usize = 5;
const ROOM: &str = "crash";

/// The real server binary, on `db`, on a free port. Returns it and its port.
async fn start_server(db: &Path) -> (Child, String) {
    start_server_with(db, &[]).await
}

/// `start_server` with further arguments (`--redis-url …`, say).
pub(crate) async fn start_server_with(db: &Path, args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sketchboard"))
        .args(["--addr", "127.0.0.1:0", "--database-url"])
        .arg(format!("sqlite://{}", db.display()))
        .args(args)
        .env("LEPTOS_OUTPUT_NAME", "sketchboard")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the server binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let addr = tokio::time::timeout(PATIENCE, async {
        while let Some(line) = lines.next_line().await.expect("server output") {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                return rest.split_whitespace().next().map(str::to_owned);
            }
        }
        None
    })
    .await
    .expect("the server starts listening in time")
    .expect("the server says where it listens");
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, format!("ws://{addr}/ws/{ROOM}"))
}

/// The address a node listens on, from the room URL `start_server_with` gave.
pub(crate) fn addr_of(url: &str) -> std::net::SocketAddr {
    url.trim_start_matches("ws://").split('/').next().and_then(|a| a.parse().ok()).expect("a node's address")
}

/// The next change a tab makes: it creates, moves and deletes its own shapes
/// only, so every change it makes is valid and must be recorded.
fn next_change(tab: &Tab, dice: &mut Dice, created: &mut usize) -> Change {
    let mine: Vec<ShapeId> =
        tab.view().shapes().filter(|s| s.id.as_str().starts_with(&tab.id)).map(|s| s.id.clone()).collect();
    let roll = dice.roll(10);
    if mine.len() < 3 || (roll == 0 && mine.len() < 8) {
        *created += 1;
        let id = ShapeId::parse(format!("{}-{created}", tab.id)).expect("id");
        let (x, y) = (dice.roll(1400) as f64, dice.roll(850) as f64);
        return Change::Create { shape: Shape::new(id, ShapeKind::Circle, x, y) };
    }
    let id = mine[dice.roll(mine.len() as u64) as usize].clone();
    if roll == 1 {
        Change::Delete { id }
    } else {
        Change::Move { id, x: dice.roll(1400) as f64, y: dice.roll(850) as f64 }
    }
}

/// One tab's life on one server: connect (counted in `started`, however it
/// went), then make a change every few milliseconds (unless `quiet`) while
/// applying what arrives, until the connection dies (or, when quiet, until
/// nothing of ours is pending), or until `stop` turns true. A session never
/// connects again: callers wait for `started` before they kill its server, so
/// no tab can reach another test's server that took the dead one's port.
pub(crate) async fn session(
    mut tab: Tab,
    mut dice: Dice,
    mut created: usize,
    url: String,
    quiet: bool,
    (acks, started): (Acks, Acks),
    mut stop: watch::Receiver<bool>,
) -> (Tab, Dice, usize) {
    let mut connected = tab.connect(&url).await;
    // With several nodes, a room whose owner was killed is unavailable (4002)
    // until its lease runs out: the tab tries again, as a browser does (the
    // node answered, so this is no other test's server on a dead one's port).
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while connected.as_ref().is_err_and(|e| e == "closed with 4002") && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        connected = tab.connect(&url).await;
    }
    started.send_modify(|n| *n += 1);
    if let Err(e) = connected {
        eprintln!("{} could not connect: {e}", tab.id);
        return (tab, dice, created);
    }
    let mut tick = tokio::time::interval(Duration::from_millis(4));
    loop {
        if quiet && tab.pending() == 0 {
            break;
        }
        let before = tab.acked.len();
        tokio::select! {
            _ = tick.tick(), if !quiet => {
                let change = next_change(&tab, &mut dice, &mut created);
                tab.make(change).await;
                if !tab.is_connected() {
                    break;
                }
            }
            alive = tab.pump() => if !alive { break },
            Ok(()) = stop.changed() => if *stop.borrow() { break },
        }
        acks.send_modify(|n| *n += tab.acked.len() - before);
    }
    (tab, dice, created)
}

/// Runs every tab against `url` at once; returns once each has tried to connect.
async fn round(
    tabs: Vec<(Tab, Dice, usize)>,
    url: &str,
    quiet: bool,
    acks: &Acks,
) -> Vec<tokio::task::JoinHandle<(Tab, Dice, usize)>> {
    let (_, never) = watch::channel(false);
    let (n, started): (usize, Acks) = (tabs.len(), Arc::new(watch::Sender::new(0)));
    let sessions = tabs
        .into_iter()
        .map(|(tab, dice, created)| {
            let counters = (acks.clone(), started.clone());
            tokio::spawn(session(tab, dice, created, url.to_owned(), quiet, counters, never.clone()))
        })
        .collect();
    all_started(&started, n).await;
    sessions
}

/// Waits until `n` sessions have tried to connect.
pub(crate) async fn all_started(started: &Acks, n: usize) {
    let mut seen = started.subscribe();
    let reached = matches!(tokio::time::timeout(PATIENCE, seen.wait_for(|&s| s >= n)).await, Ok(Ok(_)));
    assert!(reached, "only {} of {n} tabs tried to connect", *seen.borrow());
}

/// Runs the tabs against `url` until none has anything left to send. (A tab
/// whose connection fails is given another round, as a page would retry.)
pub(crate) async fn deliver_pending(
    mut tabs: Vec<(Tab, Dice, usize)>,
    url: &str,
    acks: &Acks,
) -> Vec<(Tab, Dice, usize)> {
    for attempt in 0.. {
        let sessions = round(tabs, url, true, acks).await;
        tabs = Vec::new();
        for s in sessions {
            tabs.push(tokio::time::timeout(PATIENCE, s).await.expect("pending changes delivered").expect("session"));
        }
        if tabs.iter().all(|(t, ..)| t.pending() == 0) {
            break;
        }
        assert!(attempt < 5, "pending changes never delivered");
    }
    tabs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_sigkill_exactly_once_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let mut tabs: Vec<(Tab, Dice, usize)> =
        (0..TABS).map(|i| (Tab::new(format!("tab{i}")), Dice(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1)), 0)).collect();
    let acks: Acks = Arc::new(watch::Sender::new(0));
    let mut dice = Dice(42);

    for kill in 0..KILLS {
        let (mut server, url) = start_server(&db).await;
        let target = *acks.borrow() + 60 + dice.roll(120) as usize;
        let mut acked = acks.subscribe();
        let sessions = round(tabs, &url, false, &acks).await;
        // (The match drops the value's read guard at once: the tabs need to write it.)
        let reached = matches!(tokio::time::timeout(PATIENCE, acked.wait_for(|&n| n >= target)).await, Ok(Ok(_)));
        assert!(reached, "round {kill}: the tabs made no progress");
        // SIGKILL: no shutdown, no flush, no goodbye.
        server.start_kill().expect("kill the server");
        server.wait().await.expect("the server is gone");
        tabs = Vec::new();
        for s in sessions {
            tabs.push(s.await.expect("a tab's session panicked"));
        }
        let pending: usize = tabs.iter().map(|(t, ..)| t.pending()).sum();
        eprintln!("kill {kill}: {} acknowledged so far, {pending} changes pending", *acks.borrow());
    }

    // Back up once more: every tab delivers what it still has pending.
    // (A tab whose connection fails is given another round, as a page would
    // retry; every change must be in before the observer reads the board.)
    let (mut server, url) = start_server(&db).await;
    let tabs = deliver_pending(tabs, &url, &acks).await;
    // Then each catches up with the others' last changes, and an observer
    // fetches the server's board.
    let mut observer = Tab::new("observer");
    observer.connect(&url).await.expect("observer connects");
    let mut tabs: Vec<Tab> = tabs.into_iter().map(|(t, ..)| t).collect();
    for tab in &mut tabs {
        tab.disconnect();
        tab.connect(&url).await.expect("reconnect");
        assert_eq!(tab.pending(), 0, "{} has nothing left to send", tab.id);
        assert_eq!(tab.seq(), observer.seq(), "{} is up to date", tab.id);
        assert_eq!(tab.view(), observer.view(), "{} shows the server's board", tab.id);
        assert!(tab.refused.is_empty(), "{}: valid changes were refused: {:?}", tab.id, tab.refused);
    }
    server.start_kill().expect("kill the server");
    server.wait().await.expect("the server is gone");

    let log = stored_log(&db, ROOM);
    let seqs: Vec<u64> = log.keys().copied().collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "the log is gapless from 1");
    assert_eq!(seqs.len() as u64, observer.seq(), "the log holds every change the server has");
    let mut replay = Board::new();
    for (_, _, change) in log.values() {
        replay.apply(change).expect("the stored log replays");
    }
    assert_eq!(&replay, observer.view(), "the stored log rebuilds the server's board");

    let mut recorded = HashSet::new();
    for (seq, (client, op, _)) in &log {
        assert!(recorded.insert((client.clone(), *op)), "op {op} of {client} is recorded twice (again at {seq})");
    }
    let mut checked = 0;
    for tab in &tabs {
        for (seq, op) in &tab.acked {
            let (client, logged_op, _) = &log[seq];
            assert_eq!((client, logged_op), (&tab.id, op), "{}'s acknowledged op {op} is at seq {seq}", tab.id);
        }
        for (seq, change) in &tab.seen {
            assert_eq!(&log[seq].2, change, "change {seq} as {} saw it", tab.id);
            checked += 1;
        }
        let made: HashSet<u64> = tab.made.iter().copied().collect();
        let logged: HashSet<u64> = log.values().filter(|(c, ..)| *c == tab.id).map(|(_, op, _)| *op).collect();
        let lost: Vec<_> = made.difference(&logged).collect();
        // An offline drag's moves may replace one another before being sent;
        // only those replaced ones may be missing (none are made here while offline).
        assert!(lost.is_empty(), "{}: made but never recorded: {lost:?}", tab.id);
        assert!(logged.is_subset(&made), "{}: recorded changes it never made", tab.id);
    }
    eprintln!(
        "{KILLS} kills survived: {} changes in the log, {} acknowledgements and {checked} sightings checked",
        log.len(),
        tabs.iter().map(|t| t.acked.len()).sum::<usize>(),
    );
}
