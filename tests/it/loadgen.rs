//! The load generator against a real server, in tiny scenarios: that it runs
//! and counts every copy exactly, never how fast anything is (timings belong
//! in docs/benchmarks.md).

use std::time::Duration;

use crate::common::TestServer;
use sketchboard_loadgen::{
    self as loadgen, Ack, AllToAll, Fanout, Idle, JoinStorm, Length, Report, Rooms, Run, Scenario, Stalled, TypingLoad,
};

async fn run(server: &TestServer, scenario: Scenario) -> Report {
    // This process is the server, so its own /proc entry can stand in for the server's.
    let target = Run::new(&format!("ws://{}", server.addr), vec![std::process::id()], Duration::from_secs(5));
    loadgen::run(&target, &scenario).await.expect("the scenario runs")
}

fn assert_clean(report: &Report) {
    let counts = (report.lost, report.duplicated, report.out_of_order, report.errors, report.disconnects);
    assert_eq!(counts, (0, 0, 0, 0, 0), "lost, dup, ooo, errors, disconnects in {report:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_counts_each_copy_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    // The never-reading members neither count as readers nor hold the others up.
    let fanout = Fanout { readers: 3, shapes: 40, stalled: 2, rate_hz: 60.0, length: Length::changes(20) };
    let report = run(&server, Scenario::Fanout(fanout)).await;
    assert_clean(&report);
    assert_eq!((report.sent, report.expected, report.delivered), (20, 60, 60));
    assert_eq!(report.latency.as_ref().map(|l| l.count), Some(60), "one latency per delivery");
    assert_eq!(report.fanout.as_ref().map(|f| f.count), Some(20), "one fan-out per change");
    assert_eq!(report.ack.as_ref().map(|a| a.count), Some(20), "the writer's confirmations");
    assert!(report.server.is_some(), "the server's CPU and memory are read");
    assert!(Report::HEADER.lines().count() == 2 && report.row().starts_with("| fanout |"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_counts_every_keystroke_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let typing = TypingLoad { typists: 3, draggers: 1, readers: 1, rate_hz: 50.0, length: Length::changes(8) };
    let report = run(&server, Scenario::Typing(typing)).await;
    assert_clean(&report);
    // 4 senders × 8 changes (24 of them letters), each reaching all 5 members.
    assert_eq!((report.sent, report.delivered), (32, 160));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_to_all_delivers_n_squared() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let report = run(&server, Scenario::AllToAll(AllToAll { members: 6 })).await;
    assert_clean(&report);
    assert_eq!((report.sent, report.delivered), (6, 36));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_keep_their_changes_to_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let scenario =
        Scenario::Rooms(Rooms { rooms: 3, members: 3, rate_hz: 50.0, shapes: 0, length: Length::changes(5) });
    let report = run(&server, scenario).await;
    assert_clean(&report);
    // 9 senders × 5 changes, each reaching the 3 members of its own room only.
    assert_eq!((report.sent, report.delivered), (45, 135));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_counts_confirmations() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let report = run(&server, Scenario::Ack(Ack { writers: 2, rate_hz: 50.0, length: Length::changes(10) })).await;
    assert_clean(&report);
    assert_eq!((report.sent, report.delivered), (20, 20));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_storm_gets_every_joiner_the_whole_board() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let report = run(&server, Scenario::JoinStorm(JoinStorm { joiners: 8, shapes: 50, fillers: 3 })).await;
    // A welcome with the wrong number of shapes counts as an error.
    assert_clean(&report);
    assert_eq!(report.delivered, 8);
    assert_eq!(report.latency.as_ref().map(|l| l.count), Some(8));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_holds_every_connection() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let report = run(&server, Scenario::Idle(Idle { connections: 12, rooms: 3, hold_secs: 0.1 })).await;
    assert_clean(&report);
    assert_eq!(report.delivered, 12);
    assert!(report.rss_per_connection_kib().is_some());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_members_are_held_and_measured() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let report = run(&server, Scenario::Stalled(Stalled { members: 6, shapes: 700, fillers: 2, hold_secs: 0.1 })).await;
    assert_clean(&report);
    assert_eq!(report.delivered, 6);
    assert!(report.server.as_ref().is_some_and(|s| s.peak_rss_kib > 0), "{report:#?}");
    server.stop().await;
}
