//! Scenario 11, pictures: many clients at once asking for pictures of full
//! boards (PNG, large PNG, SVG) that are being edited, so that most asks are
//! for a state nobody has drawn yet, while an honest newcomer keeps opening
//! new rooms. Measured: the newcomer's time to its welcome; beside it, how
//! the picture asks were answered (drawn, or told to come back) and how fast.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::args::Pictures;
use super::client;
use super::report::{Latencies, Report};
use super::run::Run;
use sketchboard_core::model::{Change, RoomName, Shape, ShapeId, ShapeKind};

/// Creates per change while filling (about 50 KB, one message).
const FILL_BATCH: usize = 500;
/// Between the newcomer's joins.
const JOIN_EVERY: Duration = Duration::from_millis(50);

pub(crate) async fn run(target: &Run, s: &Pictures) -> anyhow::Result<Report> {
    anyhow::ensure!(s.rooms > 0 && s.requesters > 0, "pictures need rooms and requesters");
    let rooms: Vec<RoomName> = (0..s.rooms).map(|r| target.room_name(&format!("pic{r}"))).collect::<Result<_, _>>()?;
    tracing::info!(rooms = s.rooms, shapes = s.shapes, "filling the rooms");
    for room in &rooms {
        fill(target, room, s.shapes).await?;
    }
    let machine = target.watch()?;
    let before = machine.read()?;
    let (stop, stopped) = watch::channel(false);
    let tally = Arc::new(Tally::default());

    // One editor per room, so that the boards' states keep changing.
    let mut tasks = Vec::new();
    for (r, room) in rooms.iter().enumerate() {
        let (target, room, stopped) = (target.clone(), room.clone(), stopped.clone());
        let every = Duration::from_secs_f64(1.0 / s.edit_hz.max(0.001));
        let edits = s.edit_hz > 0.0;
        tasks.push(tokio::spawn(async move {
            if edits {
                let _ = edit(&target, &room, r, every, stopped).await;
            }
        }));
    }
    let url = target.url_for(0).to_owned();
    for i in 0..s.requesters {
        let (url, rooms, stopped, tally) = (url.clone(), rooms.clone(), stopped.clone(), tally.clone());
        tasks.push(tokio::spawn(async move { ask(&url, &rooms, i, stopped, &tally).await }));
    }

    let joins = Latencies::new();
    let mut report = Report::new(
        "pictures",
        format!(
            "{} requesters asking for pictures of {} boards of {} shapes edited at {} Hz; a newcomer joining new rooms",
            s.requesters, s.rooms, s.shapes, s.edit_hz
        ),
        s.requesters + 1,
        "join",
    );
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs_f64(s.seconds) {
        n += 1;
        let room = target.room_name(&format!("newcomer{n}"))?;
        let asked = Instant::now();
        report.sent += 1;
        match client::join(&url, &room, &target.client_id(n)?).await {
            Ok((_ws, welcome)) => {
                joins.record(welcome.at - asked);
                report.delivered += 1;
            }
            Err(e) => {
                report.errors += 1;
                report.first_problem.get_or_insert(format!("newcomer's join: {e:#}"));
            }
        }
        tokio::time::sleep(JOIN_EVERY).await;
    }
    let after = machine.read()?;
    report.seconds = start.elapsed().as_secs_f64();
    let _ = stop.send(true);
    for t in tasks {
        let _ = t.await;
    }
    report.expected = report.sent;
    report.latency = joins.summary();
    machine.report(before, after, &mut report);
    let ms =
        |l: &Latencies| l.summary().map_or("-".into(), |s| format!("p50 {:.0} / p99 {:.0} ms", s.p50_ms, s.p99_ms));
    report.params.push_str(&format!(
        "; pictures drawn {} ({}), refused {} ({}), failed {}",
        tally.drawn.load(Ordering::Relaxed),
        ms(&tally.drawn_in),
        tally.refused.load(Ordering::Relaxed),
        ms(&tally.refused_in),
        tally.failed.load(Ordering::Relaxed),
    ));
    Ok(report)
}

#[derive(Default)]
struct Tally {
    drawn: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
    drawn_in: Latencies,
    refused_in: Latencies,
}

/// One requester: picture after picture, of the rooms in turn.
async fn ask(url: &str, rooms: &[RoomName], i: usize, mut stopped: watch::Receiver<bool>, tally: &Tally) {
    let mut k = i;
    while !*stopped.borrow() {
        let room = &rooms[k % rooms.len()];
        let path = match k % 3 {
            0 => format!("/r/{room}.png"),
            1 => format!("/r/{room}.png?scale=2"),
            _ => format!("/r/{room}.svg"),
        };
        k += 1;
        let asked = Instant::now();
        let answer = tokio::select! {
            answer = get(url, &path) => answer,
            _ = stopped.changed() => return,
        };
        match answer {
            Ok(200) => {
                tally.drawn.fetch_add(1, Ordering::Relaxed);
                tally.drawn_in.record(asked.elapsed());
            }
            Ok(503) => {
                tally.refused.fetch_add(1, Ordering::Relaxed);
                tally.refused_in.record(asked.elapsed());
                // As a client told Retry-After would, if impatient: a little later.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(_) | Err(_) => {
                tally.failed.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// GETs `path` and reads the whole answer; its status.
async fn get(base: &str, path: &str) -> anyhow::Result<u16> {
    let authority = base.trim_start_matches("ws://").trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).await.with_context(|| format!("connecting to {authority}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.context("sending the request")?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.context("reading the answer")?;
    let status = answer.get(9..12).and_then(|s| std::str::from_utf8(s).ok()).and_then(|s| s.parse().ok());
    match status {
        Some(status) => Ok(status),
        None => bail!("not an HTTP answer"),
    }
}

/// Fills `room` with `shapes` circles, in batches.
async fn fill(target: &Run, room: &RoomName, shapes: usize) -> anyhow::Result<()> {
    let (mut ws, _) = client::join(target.url_for(0), room, &target.filler_id(0)?).await?;
    let mut op = 0;
    for start in (0..shapes).step_by(FILL_BATCH) {
        let creates = (start..(start + FILL_BATCH).min(shapes)).map(|i| {
            let (x, y) = ((i % 1481) as f64, ((i / 1481) % 881) as f64);
            let id = ShapeId::parse(format!("f{i}")).context("a shape id")?;
            Ok(Change::Create { shape: Shape::new(id, ShapeKind::Circle, x, y) })
        });
        op += 1;
        let change = Change::Batch { changes: creates.collect::<anyhow::Result<_>>()? };
        client::send_change(&mut ws, op, change).await?;
    }
    let window = tokio::sync::Semaphore::new(0);
    client::confirm(&mut ws, op as usize, &window, "a filling batch").await
}

/// Moves a shape of `room` every `every` until stopped.
async fn edit(
    target: &Run,
    room: &RoomName,
    r: usize,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let (ws, _) = client::join(target.url_for(0), room, &target.client_id(1_000_000 + r)?).await?;
    let (mut sink, mut stream) = ws.split();
    // Read (and drop) what the room sends, so the editor is never behind.
    let reading = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    let id = ShapeId::parse("f0").context("a shape id")?;
    let mut ticks = tokio::time::interval(every);
    for op in 1.. {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopped.changed() => break,
        }
        let change = Change::Move { id: id.clone(), x: (op % 1400) as f64, y: 10.0 };
        client::send_change(&mut sink, op, change).await?;
    }
    reading.abort();
    Ok(())
}
