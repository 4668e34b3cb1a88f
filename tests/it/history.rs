//! History and pictures through real HTTP: the changes API returns exactly
//! the recorded log with its times, page by page; every version is the log
//! replayed with the same `apply`, across keyframes; view-only tokens read
//! the same and never learn the room's name; the board's SVG and PNG show
//! its shapes where they are, in their colours.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use sketchboard_core::model::{Board, Change};

use crate::common::{Client, TestServer, get_json, http_get, http_get_bytes, stored_log};

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn db_path(server: &TestServer) -> PathBuf {
    PathBuf::from(server.db_url.trim_start_matches("sqlite://"))
}

/// Every change of `room` through the API, page by page.
async fn all_changes(server: &TestServer, base: &str, page: usize) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    loop {
        let after = out.last().map_or(0, |c| c["seq"].as_u64().unwrap());
        let (status, body) = get_json(server.addr, &format!("{base}/changes?after={after}&limit={page}")).await;
        assert_eq!(status, 200, "{body}");
        let changes = body["changes"].as_array().unwrap().clone();
        assert!(changes.len() <= page);
        if changes.is_empty() {
            assert_eq!(
                Some(body["head"].as_u64().unwrap()),
                out.last().map(|c| c["seq"].as_u64().unwrap()).or(Some(0))
            );
            return out;
        }
        out.extend(changes);
    }
}

/// The latest change of the room the first test writes: 4 + 1,100 moves + 1.
const HEAD: u64 = 1105;

fn board_of(shapes: &Value) -> Board {
    serde_json::from_value(shapes.clone()).expect("a board")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_changes_api_and_every_version_are_the_recorded_log() {
    let dir = tempfile::tempdir().unwrap();
    // One tab sends the whole log at once: past the default burst, it would be paced.
    let server = TestServer::start_with(&dir, |c| c.rate_burst = 5_000).await;
    let before = now_ms();
    let (mut alice, _) = Client::join(&server, "hist", "alice").await;
    alice.create("a", "circle", 10.0, 10.0).await;
    alice.create("b", "rectangle", 400.0, 300.0).await;
    alice.change(json!({"op": "color", "id": "b", "color": "red"})).await;
    alice
        .change(json!({"op": "batch", "changes": [
            {"op": "move", "id": "a", "x": 50.0, "y": 60.0},
            {"op": "layer", "id": "a", "z": -1}
        ]}))
        .await;
    // Enough moves to cross two snapshots (keyframes) however the commits
    // group them (one is due within 511 changes of the last), then one more shape.
    let mut last = 0;
    for i in 0..1100 {
        last = alice.move_to("b", 400.0 + f64::from(i % 100), 300.0).await;
    }
    alice.confirmed(last).await;
    let op = alice.create("c", "triangle", 900.0, 500.0).await;
    alice.confirmed(op).await;
    let after = now_ms();

    let changes = all_changes(&server, "/api/rooms/hist", 250).await;
    let stored = stored_log(&db_path(&server), "hist");
    assert_eq!(changes.len(), HEAD as usize);
    assert_eq!(stored.len(), HEAD as usize, "the whole log is kept, snapshots or not");
    let mut previous = 0;
    for (entry, (seq, (_, _, change))) in changes.iter().zip(&stored) {
        assert_eq!(entry["seq"].as_u64(), Some(*seq));
        let api: Change = serde_json::from_value(entry["change"].clone()).unwrap();
        assert_eq!(&api, change, "change {seq} as recorded");
        let at = entry["at"].as_i64().expect("a time");
        assert!((before..=after).contains(&at) && at >= previous, "times in order, now: {at}");
        previous = at;
    }
    let keyframes: i64 = rusqlite::Connection::open(db_path(&server))
        .unwrap()
        .query_row("SELECT count(*) FROM keyframes WHERE room = 'hist'", [], |r| r.get(0))
        .unwrap();
    assert!(keyframes >= 2, "snapshots kept as keyframes: {keyframes}");

    // Each version is the log replayed to it, whichever keyframe it starts from.
    let mut replay = Board::new();
    let wanted = [1, 2, 3, 4, 100, 256, 257, 300, 511, 512, 513, 800, 1023, 1024, 1104, 1105];
    let check = async |seq: u64, replay: &Board| {
        let (status, v) = get_json(server.addr, &format!("/api/rooms/hist/versions/{seq}")).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(&board_of(&v["shapes"]), replay, "version {seq}");
        assert_eq!((v["seq"].as_u64(), v["head"].as_u64()), (Some(seq), Some(HEAD)));
        assert_eq!(v["at"].is_null(), seq == 0, "a time for every version but the empty one: {}", v["at"]);
    };
    check(0, &replay).await;
    for (seq, (_, _, change)) in &stored {
        replay.apply(change).unwrap();
        if wanted.contains(seq) {
            check(*seq, &replay).await;
        }
    }
    let (status, now) = get_json(server.addr, "/api/rooms/hist").await;
    assert_eq!(status, 200);
    assert_eq!(board_of(&now["shapes"]), replay, "the room now is the latest version");
    assert_eq!((now["seq"].as_u64(), now["people"].as_u64()), (Some(HEAD), Some(1)));
    assert!(now["epoch"].as_u64().is_some_and(|e| e > 0));
    assert_eq!(now["at"], changes[HEAD as usize - 1]["at"], "the room says when its latest change was made");

    for (path, status) in [
        ("/api/rooms/hist/versions/1106", 404),
        ("/api/rooms/hist/changes?limit=0", 400),
        ("/api/rooms/hist/changes?limit=1001", 400),
        ("/api/rooms/hist/changes?after=-1", 400),
        ("/api/rooms/hist/changes?after=18446744073709551616", 400),
        ("/api/rooms/hist/changes?limit=-1", 400),
        ("/api/rooms/hist/changes?limit=18446744073709551616", 400),
        ("/api/rooms/hist/versions/x", 400),
        ("/api/rooms/hist/versions/-1", 400),
        ("/api/rooms/hist/versions/18446744073709551616", 400),
        ("/api/rooms/hist/versions/9223372036854775808", 404),
        ("/api/rooms/hist/versions/18446744073709551615", 404),
        ("/api/rooms/bad%20name/changes", 400),
    ] {
        assert_eq!(http_get(server.addr, path).await.0, status, "{path}");
    }
    // Every `after` past the head is an empty last page, however large (2^63 and 2^64 - 1 once
    // wrapped to a negative number and returned the whole log).
    for after in [HEAD, HEAD + 1, i64::MAX as u64, 1 << 63, u64::MAX - 1, u64::MAX] {
        let (status, page) = get_json(server.addr, &format!("/api/rooms/hist/changes?after={after}&limit=1000")).await;
        assert_eq!(status, 200, "after={after}");
        assert_eq!(
            (page["changes"].as_array().map(Vec::len), page["head"].as_u64()),
            (Some(0), Some(HEAD)),
            "after={after}"
        );
    }
    let (_, first) = get_json(server.addr, "/api/rooms/hist/changes?after=0&limit=1").await;
    assert_eq!(first["changes"][0]["seq"], 1, "after=0 starts at the beginning");
    let (status, empty) = get_json(server.addr, "/api/rooms/never-used").await;
    assert_eq!((status, empty["seq"].as_u64(), empty["shapes"].as_array().map(Vec::len)), (200, Some(0), Some(0)));
    assert!(empty["at"].is_null(), "no change, no time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_token_reads_history_and_pictures_without_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&server, "secret-room-name", "alice").await;
    let op = alice.create("a", "circle", 10.0, 10.0).await;
    alice.confirmed(op).await;
    let (_, link) = crate::common::put_json(server.addr, "/api/rooms/secret-room-name/view-link").await;
    let token = link["path"].as_str().unwrap().trim_start_matches("/v/").to_owned();

    for path in [
        format!("/api/v/{token}"),
        format!("/api/v/{token}/changes"),
        format!("/api/v/{token}/versions/1"),
        format!("/v/{token}.svg"),
    ] {
        let (status, _, body) = http_get(server.addr, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(!body.contains("secret-room-name"), "{path} does not tell the name: {body}");
    }
    let (_, v) = get_json(server.addr, &format!("/api/v/{token}/versions/1")).await;
    assert_eq!(v["shapes"][0]["id"], "a");
    let (status, _, png) = http_get_bytes(server.addr, &format!("/v/{token}.png"), &server.addr.to_string(), "").await;
    assert_eq!(status, 200);
    let image = tiny_skia::Pixmap::decode_png(&png).expect("a PNG");
    let p = image.pixel((70.0 * 0.75) as u32, (70.0 * 0.75) as u32).unwrap();
    assert_eq!((p.red(), p.green(), p.blue()), (0xb2, 0xf2, 0xbb), "the circle, through the view-only link");
    let unknown = "A".repeat(22);
    for path in [format!("/api/v/{unknown}"), format!("/api/v/{unknown}/changes"), format!("/v/{unknown}.png")] {
        assert_eq!(http_get(server.addr, &path).await.0, 404, "{path}");
    }
}

/// A board's look, ids aside, in drawing order.
fn looks(board: &Board) -> Vec<(String, f64, f64, String, i64)> {
    board.shapes().map(|s| (s.kind.css_name().to_owned(), s.x, s.y, s.fill().name().to_owned(), s.z)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restoring_a_version_is_one_recorded_change_and_erases_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&server, "restore", "alice").await;
    alice.create("a", "circle", 10.0, 10.0).await;
    alice.create("b", "rectangle", 400.0, 300.0).await; // version 2
    alice.move_to("a", 700.0, 500.0).await;
    alice.change(json!({"op": "color", "id": "b", "color": "teal"})).await;
    alice.change(json!({"op": "layer", "id": "a", "z": -3})).await;
    alice.create("c", "triangle", 900.0, 100.0).await;
    let op = alice.delete("b").await; // version 7
    alice.confirmed(op).await;

    let (_, v2) = get_json(server.addr, "/api/rooms/restore/versions/2").await;
    let (_, now) = get_json(server.addr, "/api/rooms/restore").await;
    let changes = sketchboard_core::model::changes_between(&board_of(&now["shapes"]), &board_of(&v2["shapes"]));
    assert!(changes.len() > 1 && changes.len() <= sketchboard_core::model::MAX_BATCH);
    let batch = serde_json::to_value(Change::Batch { changes }).unwrap();
    let op = alice.change(batch).await;
    let applied = alice.confirmed(op).await;
    assert_eq!(applied["seq"], 8, "the restore is one change: {applied}");

    let (_, restored) = get_json(server.addr, "/api/rooms/restore").await;
    assert_eq!(looks(&board_of(&restored["shapes"])), looks(&board_of(&v2["shapes"])), "the room looks like version 2");
    assert_eq!(restored["seq"], 8);
    let log = all_changes(&server, "/api/rooms/restore", 100).await;
    assert_eq!(log.len(), 8, "every earlier change is still there");
    let (_, v7) = get_json(server.addr, "/api/rooms/restore/versions/7").await;
    assert_eq!(v7["shapes"].as_array().map(Vec::len), Some(2), "and version 7 still reads as it was");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_board_imports_whole_and_bad_files_change_nothing() {
    use sketchboard_core::format::{self, FormatError, MAX_FILE_BYTES};
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&server, "source", "alice").await;
    alice.create("a", "circle", 10.0, 10.0).await;
    alice.create("b", "rectangle", 400.0, 300.0).await;
    alice.change(json!({"op": "color", "id": "b", "color": "pink"})).await;
    let op = alice.change(json!({"op": "layer", "id": "b", "z": -1})).await;
    alice.confirmed(op).await;
    let (status, head, file) = http_get(server.addr, "/r/source.json").await;
    assert_eq!(status, 200);
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");

    // Import as the page does: read against the target board, send one batch.
    let (mut bob, _) = Client::join(&server, "target", "bob").await;
    let mut n = 0;
    let mut ids = || {
        n += 1;
        sketchboard_core::model::ShapeId::parse(format!("imported{n}")).unwrap()
    };
    let shapes = format::read(&file, &Board::new(), &mut ids).unwrap();
    let batch = Change::Batch { changes: shapes.into_iter().map(|shape| Change::Create { shape }).collect() };
    let op = bob.change(serde_json::to_value(batch).unwrap()).await;
    assert_eq!(bob.confirmed(op).await["seq"], 1, "one change");
    let (_, source) = get_json(server.addr, "/api/rooms/source").await;
    let (_, target) = get_json(server.addr, "/api/rooms/target").await;
    assert_eq!(looks(&board_of(&target["shapes"])), looks(&board_of(&source["shapes"])), "the same board");

    // A nearly full room: a file that would overfill it is refused whole, as
    // are malformed and oversized ones, and nothing reaches the room.
    let (mut carol, _) = Client::join(&server, "full", "carol").await;
    let mut last = 0;
    for chunk in 0..20 {
        let creates: Vec<Value> = (0..500)
            .filter(|i| chunk * 500 + i < 9_999)
            .map(|i| json!({"op": "create", "shape": {"id": format!("s{}", chunk * 500 + i), "kind": "circle", "x": 0, "y": 0}}))
            .collect();
        last = carol.change(json!({"op": "batch", "changes": creates})).await;
    }
    carol.confirmed(last).await;
    let (_, full) = get_json(server.addr, "/api/rooms/full").await;
    let board = board_of(&full["shapes"]);
    assert_eq!(board.len(), 9_999);
    assert_eq!(format::read(&file, &board, &mut ids).unwrap_err(), FormatError::TooMany { file: 2, board: 9_999 });
    assert!(matches!(
        format::read("{\"format\": \"sketchboard\", \"shapes\": [", &board, &mut ids),
        Err(FormatError::Unreadable(_))
    ));
    let huge = format!("{file}{}", " ".repeat(MAX_FILE_BYTES));
    assert!(matches!(format::read(&huge, &board, &mut ids), Err(FormatError::TooBig(_))));
    // A script that skips the page's check and sends the file's shapes anyway
    // is refused whole by the server: not even the first shape goes in.
    let shapes = format::read(&file, &Board::new(), &mut ids).unwrap();
    let batch = Change::Batch { changes: shapes.into_iter().map(|shape| Change::Create { shape }).collect() };
    let op = carol.change(serde_json::to_value(batch).unwrap()).await;
    let refused = carol.recv_type("error").await;
    assert_eq!((refused["code"].as_str(), refused["op"].as_u64()), (Some("too_many_shapes"), Some(op)), "{refused}");
    let (_, after) = get_json(server.addr, "/api/rooms/full").await;
    assert_eq!(after["seq"], full["seq"], "the room is unchanged");
    assert_eq!(board_of(&after["shapes"]), board, "not one shape of the file went in");
}

/// Import's reader, on the server: a file's shapes as they would land on an
/// empty board, or what is wrong with it; a file past the limit is refused
/// before it is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_reads_board_files_for_import() {
    use crate::common::http_with_body;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let post = |body: String| async move { http_with_body(server.addr, "POST", "/api/board-file", "", &body).await };
    let file = r#"{"format":"sketchboard","version":2,"shapes":[
        {"kind":"rectangle","x":1500,"y":10,"w":300,"h":50,"rotation":30,"text":"Plan","z":3},
        {"kind":"circle","x":5,"y":6}]}"#;
    let (status, _, body) = post(file.to_owned()).await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let first = &answer["shapes"][0];
    assert_eq!(
        (first["x"].clone(), first["w"].clone(), first["text"].clone()),
        (json!(1300.0), json!(300.0), json!("Plan"))
    );
    assert_eq!((first["rotation"].clone(), first["z"].clone()), (json!(30.0), json!(3)));
    assert_eq!(answer["shapes"][1]["w"], 120.0);
    let (status, _, body) = post(r#"{"format":"excalidraw","elements":[]}"#.to_owned()).await;
    assert_eq!(status, 422);
    assert!(body.contains("not a Sketchboard board file"), "{body}");
    let (status, _, _) = post("x".repeat(sketchboard_core::format::MAX_FILE_BYTES + 1)).await;
    assert_eq!(status, 413, "past the limit");
    server.stop().await;
}
