//! What an operator sees: `GET /metrics` scraped and parsed after real
//! traffic, and the server's log lines as JSON.

use std::collections::HashMap;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::common::{Client, PATIENCE, TestServer, http_get};

/// The samples of an OpenMetrics text: `name{labels}` → value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

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
