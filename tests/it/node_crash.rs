//! Several nodes under fire: two real server binaries share a real Redis;
//! tabs are split between them; one node is killed with SIGKILL again and
//! again mid-load, and its tabs move to the other node (as a load balancer
//! would send them) and resume with `since`, `epoch` and `last_op`. After
//! it all, the Redis log is gapless, every acknowledged change is in it
//! once at the seq it was acknowledged with, every change made is in it
//! once, and both nodes and every tab show the board the log replays to.
//! Then the same with Redis itself killed (SIGKILL) mid-load and restarted
//! on its files: the same checks hold, so nothing acknowledged was lost.
//! (A re-sent change the other node recorded meanwhile is refused as stale,
//! not confirmed: exactly once, but the tab hears it from the log. Answering
//! it with its confirmation instead is a next step.)

use std::collections::HashSet;
use std::sync::Arc;

use sketchboard::server::testing::{Store, redis_store};
use sketchboard_core::model::{Board, RoomName};
use tokio::sync::watch;

use crate::common::redis::RedisServer;
use crate::common::tab::Tab;
use crate::common::{Dice, PATIENCE};
use crate::crash::{Acks, all_started, deliver_pending, session, start_server_with};

const TABS: usize = 4;
const KILLS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_load_loses_nothing_acknowledged() {
    let (rd, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let redis = RedisServer::start(rd.path());
    // A killed node's rooms wait for its lease to run out: a short one keeps the test short.
    let args = ["--redis-url", redis.url.as_str(), "--lease-ms", "1000"];
    let (mut steady, steady_url) = start_server_with(&dir.path().join("b.db"), &args).await;
    let mut tabs: Vec<(Tab, Dice, usize)> =
        (0..TABS).map(|i| (Tab::new(format!("node-tab{i}")), Dice(0x51_7CC1_B727_220A ^ (i as u64 + 1)), 0)).collect();
    let acks: Acks = Arc::new(watch::Sender::new(0));
    let mut dice = Dice(7);

    for kill in 0..KILLS {
        let (mut doomed, doomed_url) = start_server_with(&dir.path().join("a.db"), &args).await;
        // Half the tabs on each node, the halves swapping every round: the
        // tabs of the node that died come back through the other one.
        let urls = if kill % 2 == 0 { [&doomed_url, &steady_url] } else { [&steady_url, &doomed_url] };
        let (sessions, stop) = spread(tabs, &urls, &acks).await;
        progress(&acks, 60 + dice.roll(80) as usize, kill).await;
        doomed.start_kill().expect("kill a node");
        doomed.wait().await.expect("the node is gone");
        tabs = gather(sessions, stop).await;
        let pending: usize = tabs.iter().map(|(t, ..)| t.pending()).sum();
        eprintln!("kill {kill}: {} acknowledged so far, {pending} changes pending", *acks.borrow());
    }

    // Every tab delivers what it still has pending, through the node still up.
    let tabs = deliver_pending(tabs, &steady_url, &acks).await;

    // Both nodes (the killed one restarted) and every tab agree with the log.
    let (mut revived, revived_url) = start_server_with(&dir.path().join("a.db"), &args).await;
    let store = redis_store(&redis.url).await.unwrap();
    let logged = agree_with_the_log(tabs, [&steady_url, &revived_url], &store).await;
    eprintln!("{KILLS} node kills: {logged} changes in the log, all accounted for");
    for node in [&mut steady, &mut revived] {
        node.start_kill().expect("stop a node");
        node.wait().await.expect("gone");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_load_loses_nothing_acknowledged() {
    let (rd, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut redis = RedisServer::start(rd.path());
    let args = ["--redis-url", redis.url.as_str()];
    let (mut a, a_url) = start_server_with(&dir.path().join("a.db"), &args).await;
    let (mut b, b_url) = start_server_with(&dir.path().join("b.db"), &args).await;
    let mut tabs: Vec<(Tab, Dice, usize)> = (0..TABS)
        .map(|i| (Tab::new(format!("redis-tab{i}")), Dice(0x2545_F491_4F6C_DD1D ^ (i as u64 + 1)), 0))
        .collect();
    let acks: Acks = Arc::new(watch::Sender::new(0));
    for kill in 0..2 {
        let (sessions, stop) = spread(tabs, &[&a_url, &b_url], &acks).await;
        progress(&acks, 80, kill).await;
        // SIGKILL Redis mid-append: what it answered is on its disk (fsync always); nothing else was confirmed.
        redis.kill();
        tabs = gather(sessions, stop).await;
        let pending: usize = tabs.iter().map(|(t, ..)| t.pending()).sum();
        eprintln!("Redis kill {kill}: {} acknowledged so far, {pending} changes pending", *acks.borrow());
        // Back on the same files: the nodes recover by themselves.
        redis.restart();
        for url in [&a_url, &b_url] {
            crate::common::healthy(crate::crash::addr_of(url)).await;
        }
    }
    let tabs = deliver_pending(tabs, &a_url, &acks).await;
    let store = redis_store(&redis.url).await.unwrap();
    let logged = agree_with_the_log(tabs, [&a_url, &b_url], &store).await;
    eprintln!("2 Redis kills: {logged} changes in the log, all accounted for");
    for node in [&mut a, &mut b] {
        node.start_kill().expect("stop a node");
        node.wait().await.expect("gone");
    }
}

pub(crate) type Sessions = Vec<tokio::task::JoinHandle<(Tab, Dice, usize)>>;

/// Sets the tabs to work, tab i on `urls[i % urls.len()]`; returns once each has tried
/// to connect (a session that connected after a kill could reach another
/// test's server on the dead one's port), with the switch that stops them.
pub(crate) async fn spread(
    tabs: Vec<(Tab, Dice, usize)>,
    urls: &[&String],
    acks: &Acks,
) -> (Sessions, watch::Sender<bool>) {
    let (stop, stopped) = watch::channel(false);
    let started: Acks = Arc::new(watch::Sender::new(0));
    let n = tabs.len();
    let sessions = tabs
        .into_iter()
        .enumerate()
        .map(|(i, (tab, dice, created))| {
            let counters = (acks.clone(), started.clone());
            tokio::spawn(session(tab, dice, created, urls[i % urls.len()].clone(), false, counters, stopped.clone()))
        })
        .collect();
    all_started(&started, n).await;
    (sessions, stop)
}

/// Waits until `more` further changes were acknowledged.
pub(crate) async fn progress(acks: &Acks, more: usize, round: usize) {
    let target = *acks.borrow() + more;
    let mut acked = acks.subscribe();
    let reached = matches!(tokio::time::timeout(PATIENCE, acked.wait_for(|&n| n >= target)).await, Ok(Ok(_)));
    assert!(reached, "round {round}: the tabs made no progress");
}

/// Stops the sessions and takes the tabs back.
pub(crate) async fn gather(sessions: Sessions, stop: watch::Sender<bool>) -> Vec<(Tab, Dice, usize)> {
    let _ = stop.send(true);
    let mut tabs = Vec::new();
    for s in sessions {
        tabs.push(tokio::time::timeout(PATIENCE, s).await.expect("a session ends").expect("a session panicked"));
    }
    tabs
}

/// Both nodes and every tab agree with the Redis log: it is gapless from 1
/// and replays to the board everyone shows; every acknowledged change is in
/// it once at the seq it was acknowledged with; every change a tab made is in
/// it, and only those. Returns how many changes the log holds.
pub(crate) async fn agree_with_the_log(
    tabs: Vec<(Tab, Dice, usize)>,
    [steady_url, revived_url]: [&str; 2],
    store: &Store,
) -> usize {
    let (mut on_steady, mut on_revived) = (Tab::new("observer-b"), Tab::new("observer-a"));
    on_steady.connect(steady_url).await.expect("observer on the steady node");
    on_revived.connect(revived_url).await.expect("observer on the revived node");
    assert_eq!((on_revived.seq(), on_revived.view()), (on_steady.seq(), on_steady.view()), "both nodes agree");
    let mut tabs: Vec<Tab> = tabs.into_iter().map(|(t, ..)| t).collect();
    for tab in &mut tabs {
        tab.disconnect();
        tab.connect(revived_url).await.expect("reconnect");
        assert_eq!((tab.pending(), tab.seq()), (0, on_steady.seq()), "{} is up to date", tab.id);
        assert_eq!(tab.view(), on_steady.view(), "{} shows the room's board", tab.id);
    }

    let entries = crate::common::whole_log(store, &RoomName::parse("crash").unwrap()).await;
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "the log is gapless from 1");
    assert_eq!(seqs.len() as u64, on_steady.seq());
    let mut replay = Board::new();
    let mut recorded = HashSet::new();
    for e in &entries {
        replay.apply(&e.change).expect("the log replays");
        assert!(recorded.insert((e.client.to_string(), e.op)), "op {} of {} is in the log twice", e.op, e.client);
    }
    assert_eq!(&replay, on_steady.view(), "the log rebuilds the board");
    for tab in &tabs {
        for (seq, op) in &tab.acked {
            let e = &entries[*seq as usize - 1];
            assert_eq!(
                (e.client.as_str(), e.op),
                (tab.id.as_str(), *op),
                "{}'s acknowledged op {op} is at {seq}",
                tab.id
            );
        }
        let made: HashSet<u64> = tab.made.iter().copied().collect();
        let logged: HashSet<u64> = entries.iter().filter(|e| e.client.as_str() == tab.id).map(|e| e.op).collect();
        let (missing, extra): (Vec<_>, Vec<_>) =
            (made.difference(&logged).collect(), logged.difference(&made).collect());
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{}: every change it made is in the log, and only those; missing {missing:?}, never made {extra:?}, refused {:?}",
            tab.id,
            tab.refused
        );
        // A tab that reconnects to the other node while its old connection's
        // changes are still being recorded re-sends them; the log already has
        // them, so they are refused as stale (not applied twice) and reach the
        // tab from the log. That is the only refusal allowed, and only for
        // changes the log holds.
        for (op, code) in &tab.refused {
            assert_eq!(*code, sketchboard_core::protocol::ErrorCode::StaleOp, "{}: op {op} refused", tab.id);
            assert!(logged.contains(op), "{}: op {op} was refused yet is not in the log", tab.id);
        }
    }
    entries.len()
}
