//! What an operator sees: `GET /metrics` scraped and parsed after real
//! traffic, and the server's log lines as JSON.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::common::{Client, PATIENCE, TestServer, http_get, samples};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut a, _) = Client::join(&server, "counted", "a").await;
    let first = a.create("s", "circle", 10.0, 10.0).await;
    a.confirmed(first).await;
    let second = a.move_to("s", 50.0, 50.0).await;
    a.confirmed(second).await;
    a.move_to("ghost", 1.0, 1.0).await;
    assert_eq!(a.recv_event().await["code"], "unknown_shape");

    let (status, head, body) = http_get(server.addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(head.to_ascii_lowercase().contains("content-type: application/openmetrics-text"), "{head}");
    assert!(body.trim_end().ends_with("# EOF"), "a whole OpenMetrics text");
    let got = samples(&body);
    let value = |name: &str| got.get(name).copied().unwrap_or_else(|| panic!("no {name} in\n{body}"));
    assert_eq!(value("sketchboard_connections"), 1.0);
    assert_eq!(value("sketchboard_rooms_loaded"), 1.0);
    assert_eq!(value("sketchboard_changes_accepted_total"), 2.0);
    assert_eq!(value(r#"sketchboard_changes_refused_total{code="unknown_shape"}"#), 1.0);
    assert!(value("sketchboard_commit_seconds_count") >= 1.0);
    assert!(value("sketchboard_commit_changes_sum") >= 2.0);
    assert!(value("sketchboard_disk_written_bytes") > 0.0, "the commits wrote to disk");
    server.stop().await;
}

/// Members that have read everything lend the room their sockets, and the
/// room writes each change to them straight away (no wake-up of each
/// member's task), in a room larger than tokio's per-turn budget of about
/// 128 socket operations too; the messages still arrive whole and in order,
/// and the counters say who wrote them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_writes_to_caught_up_members_itself() {
    const WATCHERS: usize = 200;
    const MOVES: u64 = 10;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut a, _) = Client::join(&server, "written", "a").await;
    let first = a.create("s", "circle", 10.0, 10.0).await;
    a.confirmed(first).await;
    let mut watchers = Vec::new();
    for i in 0..WATCHERS {
        watchers.push(Client::join(&server, "written", &format!("w{i}")).await.0);
    }
    // Everyone has heard of everyone: what follows is the changes alone.
    for w in &mut watchers {
        w.members_become(WATCHERS as u64 + 1).await;
    }
    let deliveries = || async {
        let (_, _, body) = http_get(server.addr, "/metrics").await;
        let got = samples(&body);
        let by = |who: &str| got.get(&format!(r#"sketchboard_deliveries_total{{by="{who}"}}"#)).copied();
        (by("room").unwrap_or(0.0), by("member").unwrap_or(0.0))
    };
    let before = deliveries().await;

    for i in 1..=MOVES {
        let op = a.move_to("s", i as f64, 20.0).await;
        a.confirmed(op).await;
    }
    for w in &mut watchers {
        for i in 1..=MOVES {
            let seen = w.recv_event().await;
            let x = seen["change"]["x"].as_f64();
            assert_eq!((seen["type"].as_str(), x), (Some("applied"), Some(i as f64)), "in order: {seen}");
        }
    }

    let after = deliveries().await;
    let (room, member) = (after.0 - before.0, after.1 - before.1);
    let copies = ((WATCHERS + 1) as u64 * MOVES) as f64;
    assert!(room + member >= copies, "every copy counted: room {room}, member {member}, {copies} copies");
    // The watchers only wait, so the room writes nearly all of their copies
    // (a few may arrive while a watcher is answering a ping or presence).
    assert!(room >= 0.8 * copies, "the room wrote to the waiting members' sockets: room {room}, member {member}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_can_be_json_one_object_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("json.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_sketchboard"))
        .args(["--addr", "127.0.0.1:0", "--log-format", "json", "--database-url", &db])
        .env("LEPTOS_OUTPUT_NAME", "sketchboard")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the server binary starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = tokio::time::timeout(PATIENCE, lines.next_line()).await.expect("a line in time").unwrap().unwrap();
    let entry: serde_json::Value = serde_json::from_str(&line).expect("a log line is a JSON object");
    assert_eq!(entry["level"], "INFO", "{entry}");
    assert!(entry["fields"]["message"].as_str().unwrap_or_default().contains("listening"), "{entry}");
    child.kill().await.unwrap();
}
