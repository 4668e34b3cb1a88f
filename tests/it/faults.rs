//! The whole deployment of issue "Past one Redis", under one fault per run:
//! three real node binaries, a real six-process Redis Cluster (three
//! primaries with a replica each; a change is acknowledged once a replica
//! has it), a real PostgreSQL for history. Seeded tabs are split over the
//! three nodes and every acknowledgement is recorded. The faults: the room's
//! owner killed (SIGKILL); the owner paused past its lease (SIGSTOP), then
//! woken; the primary holding the room's slot killed, its replica promoted;
//! the slot resharded while it is written; a rolling upgrade, nodes restarted
//! one by one as the next build (the next Functions version) beside the
//! others; and archiving with a short hot tail, then every process restarted,
//! versions read back from the archive and one of them restored.
//!
//! After each: the log is gapless across archive and tail, every
//! acknowledged change is at its seq once, every change made is there once
//! and every tab shows the log's replay (`node_crash::agree_with_the_log`);
//! along the log epochs never go back and each epoch was written by one node
//! (each change in Redis names the owner that appended it); and lost append
//! races stay at no more than one per change of owner.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sketchboard::server::testing::{FUNCTIONS_VERSION, Node, redis_store_archived};
use sketchboard_core::model::{Board, RoomName};
use tokio::process::Child;
use tokio::sync::watch;

use crate::common::postgres::PgServer;
use crate::common::redis::RedisCluster;
use crate::common::tab::Tab;
use crate::common::{Dice, eventually, get_json, metric, whole_log};
use crate::crash::{Acks, addr_of, deliver_pending, start_server_with};
use crate::node_crash::{agree_with_the_log, gather, progress, spread};
use crate::owners::{all_stopped, hello_at, kill};

const TABS: usize = 6;
/// The room's log as the tabs' sessions write it (`crash::start_server_with`).
const LOG: &str = "sb:{crash}:log";
const META: &str = "sb:{crash}:meta";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    KillOwner,
    PauseOwner,
    KillPrimary,
    Reshard,
    RollingUpgrade,
    ArchiveAndRestart,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rooms_owner_killed() {
    under(Fault::KillOwner, 0x6A09_E667_F3BC_C908).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rooms_owner_paused_past_its_lease_then_woken() {
    under(Fault::PauseOwner, 0xBB67_AE85_84CA_A73B).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_primary_of_the_rooms_slot_killed() {
    under(Fault::KillPrimary, 0x3C6E_F372_FE94_F82B).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rooms_slot_resharded_while_written() {
    under(Fault::Reshard, 0xA54F_F53A_5F1D_36F1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_upgrade_to_the_next_functions_version() {
    under(Fault::RollingUpgrade, 0x9B05_688C_2B3E_6C1F).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_then_everything_restarted() {
    under(Fault::ArchiveAndRestart, 0x510E_527F_ADE6_82D1).await;
}

/// One node binary: its process while it runs, its SQLite file, its room's
/// socket address and its own arguments.
struct NodeProcess {
    child: Option<Child>,
    db: PathBuf,
    url: String,
    extra: Vec<&'static str>,
}

struct Deployment {
    cluster: RedisCluster,
    pg: PgServer,
    args: Vec<String>,
    hot_tail: u64,
    nodes: Vec<NodeProcess>,
    /// Last, so dropped last: the servers stop before their files go.
    dir: tempfile::TempDir,
}

impl Deployment {
    /// The cluster and PostgreSQL, and no node yet.
    fn start(hot_tail: u64) -> Deployment {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (cluster, pg) = (RedisCluster::start_replicated(dir.path(), 1), PgServer::start(dir.path()));
        let args = [
            "--redis-url",
            &cluster.url,
            "--redis-replicas",
            "1",
            "--history-url",
            &pg.url,
            "--hot-tail",
            &hot_tail.to_string(),
            // A dead owner's room waits for its lease to run out: a short one keeps the runs short.
            "--lease-ms",
            "1000",
        ]
        .map(str::to_owned)
        .to_vec();
        Deployment { cluster, pg, args, hot_tail, nodes: Vec::new(), dir }
    }

    /// Starts node `i` (a new one, or again on its files).
    async fn run_node(&mut self, i: usize) {
        if i == self.nodes.len() {
            let db = self.dir.path().join(format!("node-{i}.db"));
            self.nodes.push(NodeProcess { child: None, db, url: String::new(), extra: Vec::new() });
        }
        let args: Vec<&str> = self.args.iter().map(String::as_str).chain(self.nodes[i].extra.iter().copied()).collect();
        let (child, url) = start_server_with(&self.nodes[i].db, &args).await;
        self.nodes[i].child = Some(child);
        self.nodes[i].url = url;
    }

    fn pid(&self, i: usize) -> u32 {
        self.nodes[i].child.as_ref().and_then(Child::id).expect("a running node")
    }

    /// Stops node `i` with `signal` (`-KILL`, or `-TERM` as an operator does) and waits until it is gone.
    async fn stop_node(&mut self, i: usize, signal: &str) {
        kill(signal, self.pid(i));
        let mut child = self.nodes[i].child.take().expect("a running node");
        tokio::time::timeout(crate::common::PATIENCE, child.wait()).await.expect("the node ends").expect("gone");
    }

    fn urls(&self, which: &[usize]) -> Vec<String> {
        which.iter().map(|&i| self.nodes[i].url.clone()).collect()
    }

    fn addr(&self, i: usize) -> std::net::SocketAddr {
        addr_of(&self.nodes[i].url)
    }
}

/// Runs the tabs on the nodes `on` until `more` further changes are acknowledged.
async fn work(
    d: &Deployment,
    tabs: Vec<(Tab, Dice, usize)>,
    on: &[usize],
    acks: &Acks,
    more: usize,
    round: usize,
) -> Vec<(Tab, Dice, usize)> {
    let urls = d.urls(on);
    let urls: Vec<&String> = urls.iter().collect();
    let (sessions, stop) = spread(tabs, &urls, acks).await;
    progress(acks, more, round).await;
    gather(sessions, stop).await
}

async fn under(fault: Fault, seed: u64) {
    let hot_tail = if fault == Fault::ArchiveAndRestart { 16 } else { 100_000 };
    let mut d = Deployment::start(hot_tail);
    let acks: Acks = Arc::new(watch::Sender::new(0));
    let mut tabs: Vec<(Tab, Dice, usize)> =
        (0..TABS).map(|i| (Tab::new(format!("fault-tab{i}")), Dice(seed ^ (i as u64 + 1)), 0)).collect();

    // The first tab meets node 0 alone, so node 0 owns the room; then the
    // other nodes start and the tabs spread over all three.
    d.run_node(0).await;
    let rest = tabs.split_off(1);
    tabs = work(&d, tabs, &[0], &acks, 20, 0).await;
    tabs.extend(rest);
    d.run_node(1).await;
    d.run_node(2).await;
    let all = [0, 1, 2];
    let (sessions, stop) = spread(tabs, &d.urls(&all).iter().collect::<Vec<_>>(), &acks).await;
    progress(&acks, 150, 1).await;

    let tabs = match fault {
        Fault::KillOwner => {
            d.stop_node(0, "-KILL").await;
            let tabs = gather(sessions, stop).await;
            // The others take the room over once the lease runs out; the tabs resume there.
            let tabs = work(&d, tabs, &[1, 2], &acks, 100, 2).await;
            d.run_node(0).await;
            work(&d, tabs, &all, &acks, 50, 3).await
        }
        Fault::PauseOwner => {
            let pid = d.pid(0);
            kill("-STOP", pid);
            eventually("every thread of the owner stops", Duration::from_millis(10), || async {
                all_stopped(pid).then_some(())
            })
            .await;
            let tabs = gather(sessions, stop).await;
            let lease = "sb:{crash}:lease";
            eventually("the paused owner's lease runs out", Duration::from_millis(50), || async {
                (d.cluster.primary_of(lease).cli(&["EXISTS", lease]) == "0").then_some(())
            })
            .await;
            let tabs = work(&d, tabs, &[1, 2], &acks, 100, 2).await;
            // The old owner wakes fenced; its tabs resume through it, relayed to the new owner.
            kill("-CONT", pid);
            let tabs = work(&d, tabs, &all, &acks, 100, 3).await;
            assert_eq!(metric(d.addr(0), "sketchboard_leases_lost_total").await, 1.0, "the old owner knows");
            tabs
        }
        Fault::KillPrimary => {
            let killed = d.cluster.kill_primary_of(META);
            // Appends fail meanwhile: the rooms reload and close their
            // members (4000), whose sessions end; they resume below.
            let tabs = gather(sessions, stop).await;
            let promoted = || async { d.cluster.taken_over(META, killed).then_some(()) };
            eventually("the replica takes over the room's slot", Duration::from_millis(100), promoted).await;
            // Acknowledged again once the killed server is back, as the new primary's replica.
            d.cluster.servers[killed].restart();
            work(&d, tabs, &all, &acks, 150, 2).await
        }
        Fault::Reshard => {
            let from = d.cluster.primary_of(META);
            let to = d.cluster.servers.iter().find(|s| s.url != from.url && s.cli(&["ROLE"]).starts_with("master"));
            let to = to.expect("another primary");
            let before = *acks.borrow();
            // (The move blocks this thread; the tabs run on the runtime's other.)
            tokio::task::block_in_place(|| RedisCluster::move_slots(from, to));
            assert_eq!(d.cluster.primary_of(META).url, to.url, "the room moved");
            eprintln!("while the slots moved: {} changes acknowledged", *acks.borrow() - before);
            // A call that met the slot half-moved failed unacknowledged, and
            // its room resynced its members: they resume.
            let tabs = gather(sessions, stop).await;
            work(&d, tabs, &all, &acks, 100, 2).await
        }
        Fault::RollingUpgrade => {
            // One node after the other is stopped as an operator does
            // (SIGTERM hands its rooms back) and started as the next build,
            // whose Functions carry the next version, beside the others.
            let tabs = gather(sessions, stop).await;
            d.stop_node(0, "-TERM").await;
            d.nodes[0].extra.push("--rehearse-upgrade");
            d.run_node(0).await;
            // The upgraded node takes the room first, then both builds serve it.
            let tabs = work(&d, tabs, &[0], &acks, 30, 2).await;
            let tabs = work(&d, tabs, &all, &acks, 100, 3).await;
            d.stop_node(1, "-TERM").await;
            d.nodes[1].extra.push("--rehearse-upgrade");
            d.run_node(1).await;
            let tabs = work(&d, tabs, &all, &acks, 100, 4).await;
            // The upgraded owner stops: a node of this build takes the room back.
            d.stop_node(0, "-TERM").await;
            let tabs = work(&d, tabs, &[2], &acks, 30, 5).await;
            d.run_node(0).await;
            let tabs = work(&d, tabs, &all, &acks, 100, 6).await;
            let next = format!("sketchboard_v{}", FUNCTIONS_VERSION + 1);
            for server in &d.cluster.servers {
                if server.cli(&["ROLE"]).starts_with("master") {
                    let libraries = server.cli(&["FUNCTION", "LIST"]);
                    assert!(libraries.contains(&next), "the next build's library on every primary");
                    assert!(libraries.contains(&format!("sketchboard_v{FUNCTIONS_VERSION}")), "beside this one's");
                }
            }
            tabs
        }
        Fault::ArchiveAndRestart => {
            progress(&acks, 300, 2).await;
            let tabs = gather(sessions, stop).await;
            // Every process restarts: the nodes as an operator stops them
            // (SIGTERM hands their leases back), Redis and PostgreSQL killed.
            for i in all {
                d.stop_node(i, "-TERM").await;
            }
            tokio::task::block_in_place(|| {
                for server in &mut d.cluster.servers {
                    server.kill();
                }
                for server in &mut d.cluster.servers {
                    server.restart();
                }
                d.cluster.wait_until_ready();
                d.pg.restart();
            });
            for i in all {
                d.run_node(i).await;
            }
            work(&d, tabs, &all, &acks, 50, 3).await
        }
    };
    let tabs = deliver_pending(tabs, &d.nodes[1].url, &acks).await;

    let reader = Node { name: "reader".into(), address: "http://reader.invalid".into() };
    let store = redis_store_archived(&d.cluster.url, reader, Duration::from_secs(5), &d.pg.url, d.hot_tail)
        .await
        .expect("a store on the deployment");
    let logged = agree_with_the_log(tabs, [&d.nodes[1].url, &d.nodes[2].url], &store).await;
    let epochs = one_writer_per_epoch(&d).await;
    let mut races = 0.0;
    for i in all {
        races += metric(d.addr(i), "sketchboard_append_races_total").await;
    }
    eprintln!("{fault:?}: {logged} changes in the log, {epochs} epochs, {races} lost append races");
    assert!(races <= epochs as f64, "{races} lost append races for {epochs} owners");
    if fault == Fault::RollingUpgrade {
        // This build's node, the next build's, then this build's again.
        assert!(epochs >= 3, "the room changed hands between the builds: {epochs} epochs");
    }
    if fault == Fault::ArchiveAndRestart {
        let mark = versions_from_the_archive(&d, &store, logged as u64).await;
        restore_from_the_archive(&d, mark / 2).await;
    }
}

/// Restores the room to version `seq` (from the archive) as the page does: one
/// batch of the changes between the board now and that version, sent through a
/// node that relays it to the owner. The room then shows that version.
async fn restore_from_the_archive(d: &Deployment, seq: u64) {
    let addr = d.addr(2);
    let board = |value: &serde_json::Value| -> Board { serde_json::from_value(value.clone()).expect("a board") };
    let (_, version) = get_json(addr, &format!("/api/rooms/crash/versions/{seq}")).await;
    let (_, now) = get_json(addr, "/api/rooms/crash").await;
    let (version, mut restored) = (board(&version["shapes"]), board(&now["shapes"]));
    let changes = sketchboard_core::model::changes_between(&restored, &version);
    assert!(!changes.is_empty(), "version {seq} differs from the board now");
    let batch = sketchboard_core::model::Change::Batch { changes };
    restored.apply(&batch).expect("the restore applies");
    let (mut restorer, _) = hello_at(&addr.to_string(), "crash", "restorer", None).await;
    let op = restorer.change(serde_json::to_value(&batch).expect("a change as JSON")).await;
    let applied = restorer.confirmed(op).await;
    assert_eq!(applied["seq"], now["seq"].as_u64().unwrap_or(0) + 1, "the restore is one change");
    let (_, after) = get_json(addr, "/api/rooms/crash").await;
    assert_eq!(board(&after["shapes"]), restored, "the room shows version {seq} again");
}

/// Along the room's log in Redis, the owner that appended each change:
/// every change names one, epochs never go back, and each epoch has one node.
/// Answers how many epochs wrote.
async fn one_writer_per_epoch(d: &Deployment) -> usize {
    let primary = d.cluster.primary_of(LOG);
    let client = redis::Client::open(primary.url.as_str()).expect("a Redis address");
    let mut conn = client.get_multiplexed_async_connection().await.expect("a connection to the primary");
    let log: redis::streams::StreamRangeReply =
        redis::AsyncCommands::xrange_all(&mut conn, LOG).await.expect("the room's log");
    assert!(!log.ids.is_empty(), "the log's tail is in Redis");
    let mut writers: BTreeMap<u64, String> = BTreeMap::new();
    let mut last = 0;
    for entry in &log.ids {
        let (Some(node), Some(epoch)) = (entry.get::<String>("node"), entry.get::<u64>("epoch")) else {
            panic!("change {} does not name the owner that appended it", entry.id)
        };
        assert!(epoch >= last, "change {} was appended under epoch {epoch}, after epoch {last}", entry.id);
        last = epoch;
        let first = writers.entry(epoch).or_insert_with(|| node.clone());
        assert_eq!(*first, node, "epoch {epoch} was written by two nodes (change {})", entry.id);
    }
    eprintln!("owners along the log's tail: {writers:?}");
    writers.len()
}

/// Versions picked along the log, from the archive and from the tail, are the
/// log's replay. Answers the seq the log is archived up to.
async fn versions_from_the_archive(d: &Deployment, store: &sketchboard::server::testing::Store, logged: u64) -> u64 {
    let mark: u64 = d.cluster.primary_of(META).cli(&["HGET", META, "archived"]).parse().unwrap_or(0);
    assert!(mark > 100, "the log was archived (up to {mark})");
    let entries = whole_log(store, &RoomName::parse("crash").expect("a room name")).await;
    let mut dice = Dice(11);
    for seq in [1, mark / 2, mark, mark + 1, logged].into_iter().chain((0..3).map(|_| 1 + dice.roll(logged))) {
        let mut replay = Board::new();
        for e in entries.iter().take(seq as usize) {
            replay.apply(&e.change).expect("the log replays");
        }
        let (status, version) = get_json(d.addr(2), &format!("/api/rooms/crash/versions/{seq}")).await;
        assert_eq!(status, 200, "version {seq}: {version}");
        assert_eq!(version["shapes"], serde_json::to_value(&replay).expect("a board as JSON"), "version {seq}");
    }
    mark
}
