//! Scenarios 4 and 5, about connections rather than changes: a join storm on
//! a full room (how long each joiner waits for its snapshot) and idle
//! connections (what each one costs the server in memory).

use std::ops::Range;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{StreamExt, TryStreamExt};
use tokio::sync::{Semaphore, mpsc, watch};

use super::args::{Idle, JoinStorm, Stalled};
use super::client::{self, Received, Socket};
use super::report::{Latencies, Report};
use super::run::{Run, SETUP_CONCURRENCY};
use sketchboard_core::model::{Change, ClientId, RoomName, Shape, ShapeId, ShapeKind};

/// Time between the end of setup and the storm, so every joiner task is waiting.
const LEAD: Duration = Duration::from_millis(200);
/// How long the storm may take before the joiners still waiting count as failed.
const STORM_LIMIT: Duration = Duration::from_secs(120);
/// Creates a filler may have sent and not yet seen confirmed.
const FILL_WINDOW: usize = 16;

pub(crate) async fn storm(target: &Run, s: &JoinStorm) -> anyhow::Result<Report> {
    let room = target.room_name("storm")?;
    let machine = target.watch()?;
    tracing::info!(shapes = s.shapes, fillers = s.fillers, "filling the room");
    fill(target, &room, s.shapes, s.fillers.max(1)).await?;

    tracing::info!(joiners = s.joiners, "joining all at once");
    let before = machine.read()?;
    let start = Instant::now() + LEAD;
    let (stop, stopped) = watch::channel(false);
    let (arrived, mut arrivals) = mpsc::unbounded_channel();
    let mut holders = Vec::new();
    for i in 0..s.joiners {
        let client = target.client_id(s.fillers + i)?;
        let (url, room, stopped, arrived) =
            (target.url_for(i).to_owned(), room.clone(), stopped.clone(), arrived.clone());
        holders.push(tokio::spawn(async move {
            tokio::time::sleep_until(start.into()).await;
            match client::join(&url, &room, &client).await {
                Ok((ws, welcome)) => {
                    let _ = arrived.send(Ok(welcome));
                    hold(ws, stopped).await
                }
                Err(e) => {
                    let _ = arrived.send(Err(e));
                    None
                }
            }
        }));
    }

    let mut report =
        Report::new("join-storm", format!("{} joiners, {} shapes", s.joiners, s.shapes), s.joiners, "welcome");
    let times = Latencies::new();
    let deadline = start + STORM_LIMIT;
    let mut last = start;
    for _ in 0..s.joiners {
        let arrival = tokio::time::timeout_at(deadline.into(), arrivals.recv()).await;
        match arrival {
            Ok(Some(Ok(welcome))) => {
                times.record(welcome.at.saturating_duration_since(start));
                last = last.max(welcome.at);
                report.delivered += 1;
                if welcome.shapes != s.shapes {
                    report.errors += 1;
                    let problem = format!("a welcome held {} shapes, not {}", welcome.shapes, s.shapes);
                    report.first_problem.get_or_insert(problem);
                }
            }
            Ok(Some(Err(e))) => {
                report.errors += 1;
                report.first_problem.get_or_insert(format!("{e:#}"));
            }
            Ok(None) | Err(_) => break,
        }
    }
    let after = machine.read()?;
    let _ = stop.send(true);
    report.disconnects = count_disconnects(&mut report, holders).await?;

    report.sent = s.joiners as u64;
    report.expected = s.joiners as u64;
    report.lost = report.expected - report.delivered;
    report.latency = times.summary();
    // The storm's total: from the joins' start to the last welcome.
    report.seconds = last.saturating_duration_since(start).as_secs_f64();
    if report.seconds > 0.0 {
        report.per_second = Some(report.delivered as f64 / report.seconds);
    }
    machine.report(before, after, &mut report);
    Ok(report)
}

/// Puts `shapes` shapes into `room`, from `fillers` connections at once (the
/// server paces each connection, so one alone would take long).
pub(super) async fn fill(target: &Run, room: &RoomName, shapes: usize, fillers: usize) -> anyhow::Result<()> {
    let per_filler = shapes.div_ceil(fillers);
    let parts = (0..fillers).map(|f| {
        let part = f * per_filler..((f + 1) * per_filler).min(shapes);
        async move { fill_part(target, room, target.filler_id(f)?, part).await }
    });
    futures_util::future::try_join_all(parts).await.context("filling the room")?;
    Ok(())
}

async fn fill_part(target: &Run, room: &RoomName, client: ClientId, part: Range<usize>) -> anyhow::Result<()> {
    let count = part.len();
    let (ws, _) = client::join(target.url_for(0), room, &client).await?;
    let (mut sink, mut stream) = ws.split();
    // Every filler receives every shape, and the server drops a member more
    // than 1,024 messages behind: a window of unconfirmed creates per filler
    // keeps the fillers' combined lead well below that.
    let window = Semaphore::new(FILL_WINDOW);
    let sending = async {
        for (op, i) in (1..).zip(part) {
            window.acquire().await.context("the fill window closed")?.forget();
            // Circles (120 × 120) laid out in rows that stay on the board.
            let (x, y) = ((i % 1481) as f64, ((i / 1481) % 881) as f64);
            let id = ShapeId::parse(format!("f{i}")).context("filler shape id")?;
            let shape = Shape::new(id, ShapeKind::Circle, x, y);
            client::send_change(&mut sink, op, Change::Create { shape }).await?;
        }
        anyhow::Ok(())
    };
    let confirming = client::confirm(&mut stream, count, &window, "a filler's create");
    tokio::try_join!(sending, confirming)?;
    Ok(())
}

pub(crate) async fn idle(target: &Run, s: &Idle) -> anyhow::Result<Report> {
    let machine = target.watch()?;
    let (stop, stopped) = watch::channel(false);
    let per_room = s.connections.div_ceil(s.rooms.max(1));
    tracing::info!(connections = s.connections, rooms = s.rooms, "opening idle connections");
    let holders: Vec<_> = futures_util::stream::iter(0..s.connections)
        .map(|i| {
            let stopped = stopped.clone();
            async move {
                let room = target.room_name(&format!("idle-{}", i / per_room))?;
                let (ws, _) = client::join(target.url_for(i), &room, &target.client_id(i)?).await?;
                anyhow::Ok(tokio::spawn(hold(ws, stopped)))
            }
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .try_collect()
        .await?;
    let from = machine.read()?;
    let held = Instant::now();
    // Lets the server settle: presence updates sent, buffers back to their idle size.
    tokio::time::sleep(Duration::from_secs_f64(s.hold_secs.max(0.0))).await;
    let after = machine.read()?;

    let params = format!("{} connections in {} rooms, held {} s", s.connections, s.rooms, s.hold_secs);
    let mut report = Report::new("idle", params, s.connections, "memory");
    report.seconds = held.elapsed().as_secs_f64();
    let _ = stop.send(true);
    report.disconnects = count_disconnects(&mut report, holders).await?;
    report.sent = s.connections as u64;
    report.expected = s.connections as u64;
    report.delivered = report.expected - report.disconnects;
    machine.report(from, after, &mut report);
    Ok(report)
}

/// Members of a full room that say hello and never read: what each costs the
/// server while it waits for them (its send deadline ends them later).
pub(crate) async fn stalled(target: &Run, s: &Stalled) -> anyhow::Result<Report> {
    let room = target.room_name("stalled")?;
    let machine = target.watch()?;
    tracing::info!(shapes = s.shapes, "filling the room");
    fill(target, &room, s.shapes, s.fillers.max(1)).await?;
    let from = machine.read()?;
    tracing::info!(members = s.members, "joining without reading");
    let sockets = never_reading(target, &room, s.fillers, s.members).await?;
    let held = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(s.hold_secs.max(0.0))).await;
    let after = machine.read()?;
    let params = format!("{} members never reading, {} shapes, held {} s", s.members, s.shapes, s.hold_secs);
    let mut report = Report::new("stalled", params, s.members, "memory");
    report.seconds = held.elapsed().as_secs_f64();
    report.sent = s.members as u64;
    report.expected = s.members as u64;
    report.delivered = sockets.len() as u64;
    machine.report(from, after, &mut report);
    drop(sockets);
    Ok(report)
}

/// `count` members of `room` (client ids from `first_id` on) that say hello
/// and never read a byte.
pub(crate) async fn never_reading(
    target: &Run,
    room: &RoomName,
    first_id: usize,
    count: usize,
) -> anyhow::Result<Vec<Socket>> {
    futures_util::stream::iter(first_id..first_id + count)
        .map(|i| async move { client::hello_only(target.url_for(i), room, &target.client_id(i)?).await })
        .buffer_unordered(SETUP_CONCURRENCY)
        .try_collect()
        .await
}

/// Keeps a connection open, reading (which answers the server's pings), until
/// told to stop; what went wrong if the server closed it first.
async fn hold(mut ws: Socket, mut stopped: watch::Receiver<bool>) -> Option<String> {
    loop {
        let incoming = tokio::select! {
            biased;
            _ = stopped.changed() => return None,
            incoming = client::read(&mut ws) => incoming,
        };
        match incoming {
            Ok(Received::Msg(..) | Received::Unreadable(_)) => continue,
            Ok(Received::Closed(why)) => return Some(format!("the server closed a connection: {why}")),
            Err(e) => return Some(format!("{e:#}")),
        }
    }
}

/// Waits for the holders to finish; how many lost their connection early.
async fn count_disconnects(
    report: &mut Report,
    holders: Vec<tokio::task::JoinHandle<Option<String>>>,
) -> anyhow::Result<u64> {
    let mut disconnects = 0;
    for holder in holders {
        if let Some(problem) = holder.await.context("a connection task panicked")? {
            disconnects += 1;
            report.first_problem.get_or_insert(problem);
        }
    }
    Ok(disconnects)
}
