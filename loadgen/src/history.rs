//! Scenario 9, history: a room with a long log (by default 100,000 changes
//! on 1,000 shapes), then seeks to random versions through the JSON API
//! (`GET /api/rooms/{room}/versions/{seq}`), timed from the request to the
//! parsed board, as the history page's slider asks for them one at a time.

use std::time::Instant;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use super::args::History;
use super::client;
use super::joins::fill;
use super::report::{Latencies, Report};
use super::run::Run;
use sketchboard_core::model::{Change, RoomName, ShapeId};

/// Unconfirmed moves per writer (each writer reads everyone's, so the room's
/// combined lead stays well below the 1,024 a member may fall behind).
const WINDOW: usize = 64;

pub(crate) async fn run(target: &Run, s: &History) -> anyhow::Result<Report> {
    anyhow::ensure!(s.shapes > 0 && s.writers > 0, "a history needs shapes and writers");
    let room = target.room_name("history")?;
    tracing::info!(shapes = s.shapes, "filling the room");
    fill(target, &room, s.shapes, 4).await?;
    tracing::info!(changes = s.changes, writers = s.writers, "writing the log");
    let written = Instant::now();
    let per_writer = s.changes.div_ceil(s.writers);
    let writers = (0..s.writers).map(|w| {
        let part = w * per_writer..((w + 1) * per_writer).min(s.changes);
        let room = room.clone();
        async move { write(target, &room, w, part, s.shapes).await }
    });
    futures_util::future::try_join_all(writers).await.context("writing the log")?;
    tracing::info!(seconds = written.elapsed().as_secs_f64(), "log written");

    let machine = target.watch()?;
    let before = machine.read()?;
    // Every create and every move is one change.
    let head = (s.shapes + s.changes) as u64;
    let times = Latencies::new();
    let mut report = Report::new(
        "history",
        format!("{} changes on {} shapes, {} seeks to random versions", s.changes, s.shapes, s.seeks),
        1,
        "seek",
    );
    let start = Instant::now();
    let mut dice = 0x9e37_79b9_7f4a_7c15_u64 ^ head;
    for _ in 0..s.seeks {
        dice ^= dice << 13;
        dice ^= dice >> 7;
        dice ^= dice << 17;
        let seq = dice % (head + 1);
        let asked = Instant::now();
        match version(target.url_for(0), &room, seq).await {
            Ok(shapes) if shapes == (seq as usize).min(s.shapes) => {
                times.record(asked.elapsed());
                report.delivered += 1;
            }
            Ok(shapes) => {
                report.errors += 1;
                report.first_problem.get_or_insert(format!("version {seq} held {shapes} shapes"));
            }
            Err(e) => {
                report.errors += 1;
                report.first_problem.get_or_insert(format!("version {seq}: {e:#}"));
            }
        }
    }
    let after = machine.read()?;
    report.seconds = start.elapsed().as_secs_f64();
    report.sent = s.seeks as u64;
    report.expected = s.seeks as u64;
    report.lost = report.expected - report.delivered - report.errors;
    report.latency = times.summary();
    machine.report(before, after, &mut report);
    Ok(report)
}

/// One writer's share of the log: moves of the room's shapes, in a window.
async fn write(
    target: &Run,
    room: &RoomName,
    w: usize,
    part: std::ops::Range<usize>,
    shapes: usize,
) -> anyhow::Result<()> {
    let count = part.len();
    let (ws, _) = client::join(target.url_for(w), room, &target.client_id(w)?).await?;
    let (mut sink, mut stream) = ws.split();
    let window = Semaphore::new(WINDOW);
    let sending = async {
        for (op, i) in (1..).zip(part) {
            window.acquire().await.context("the window closed")?.forget();
            let id = ShapeId::parse(format!("f{}", i % shapes)).context("shape id")?;
            let (x, y) = ((i * 7 % 1481) as f64, (i * 13 % 881) as f64);
            client::send_change(&mut sink, op, Change::Move { id, x, y }).await?;
        }
        anyhow::Ok(())
    };
    let confirming = client::confirm(&mut stream, count, &window, "a writer's move");
    tokio::try_join!(sending, confirming)?;
    Ok(())
}

/// GETs version `seq` and parses it; returns how many shapes it holds.
async fn version(base: &str, room: &RoomName, seq: u64) -> anyhow::Result<usize> {
    let authority = base.trim_start_matches("ws://").trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).await.with_context(|| format!("connecting to {authority}"))?;
    let request =
        format!("GET /api/rooms/{room}/versions/{seq} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.context("sending the request")?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.context("reading the answer")?;
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").context("an HTTP answer")?;
    let head = String::from_utf8_lossy(&answer[..split]);
    if !head.starts_with("HTTP/1.1 200") {
        bail!("{}", head.lines().next().unwrap_or_default());
    }
    let body: serde_json::Value = serde_json::from_slice(&answer[split + 4..]).context("a JSON body")?;
    Ok(body["shapes"].as_array().map_or(0, Vec::len))
}
