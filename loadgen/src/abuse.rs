//! Floods. `selection_flood`: members sending the largest selection allowed,
//! over and over (scenario 8 with `--flood-selections`).
//!
//! Scenario 10, parts flood: many addresses hammer the server's room for
//! changes in parts (first parts of 64-part changes, each a full message,
//! never followed, sent again at once whenever one is refused or abandoned),
//! while an honest client sends changes of two parts, as an import does, and
//! retries on `busy` the way the page does (reconnecting after 250 ms, 500 ms,
//! 1 s, … up to 10 s). Measured: from the honest change's first send to its
//! confirmation, retries included.
//!
//! The addresses are given the way a trusted proxy gives them
//! (`X-Forwarded-For`): run the server with `--trusted-proxies 127.0.0.1`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;

use super::args::PartsFlood;
use super::client::{self, Received, Socket};
use super::report::{Latencies, Report};
use super::run::Run;
use sketchboard_core::model::{Change, ClientId, RoomName, Shape, ShapeId, ShapeKind};
use sketchboard_core::presence::MAX_SHOWN_SELECTION;
use sketchboard_core::protocol::{ClientMsg, ErrorCode, MAX_MESSAGE_BYTES, MAX_PARTS, ServerMsg};

/// How long one honest change may take before it counts as failed.
const CHANGE_LIMIT: Duration = Duration::from_secs(120);
/// The honest client's own address.
const HONEST: &str = "198.51.100.7";

pub(crate) async fn parts_flood(target: &Run, s: &PartsFlood) -> anyhow::Result<Report> {
    anyhow::ensure!(s.addresses <= 250 * 250, "at most 62,500 addresses");
    let room = target.room_name("parts-honest")?;
    let url = target.url_for(0).to_owned();
    let honest_id = target.client_id(0)?;
    let (mut honest, _) = client::join_from(&url, &room, &honest_id, Some(HONEST)).await?;
    let shape = ShapeId::parse("a".repeat(32)).context("a shape id")?;
    let create = Change::Create { shape: Shape::new(shape.clone(), ShapeKind::Rectangle, 10.0, 10.0) };
    client::send_change(&mut honest, 1, create).await?;
    if confirmed(&mut honest, 1).await.is_err() {
        bail!("the honest client's shape was not made");
    }

    tracing::info!(addresses = s.addresses, per_address = s.per_address, "starting the flood");
    let (stop, stopped) = watch::channel(false);
    let refused = Arc::new(AtomicU64::new(0));
    let started = Arc::new(AtomicU64::new(0));
    let mut flood = Vec::new();
    for a in 0..s.addresses {
        for c in 0..s.per_address {
            let address = format!("10.{}.{}.1", a / 250, a % 250);
            let id = target.client_id(1 + a * s.per_address + c)?;
            // A room of its own for each address: what is measured is the budget, not a room's churn.
            let (url, room, stopped) = (url.clone(), target.room_name(&format!("parts-{a}"))?, stopped.clone());
            let (refused, started) = (refused.clone(), started.clone());
            flood.push(tokio::spawn(
                async move { hammer(&url, &room, &id, &address, stopped, &refused, &started).await },
            ));
        }
    }
    let attackers = (s.addresses * s.per_address) as u64;
    let ready = super::run::wait_until(Duration::from_secs(60), || started.load(Ordering::Relaxed) >= attackers).await;
    anyhow::ensure!(ready, "the flood's connections did not all send a first part within 60 s");
    // Long enough for whatever the flood holds to count as stalled, as it would in a real flood.
    tokio::time::sleep(Duration::from_secs_f64(s.warm_secs)).await;

    let machine = target.watch()?;
    let before = machine.read()?;
    let params = format!(
        "{} addresses × {} connections flooding first parts; {} honest 2-part changes of {} moves",
        s.addresses, s.per_address, s.changes, s.moves
    );
    let mut report = Report::new("parts-flood", params, attackers as usize + 1, "change");
    let times = Latencies::new();
    let start = Instant::now();
    for i in 0..s.changes {
        let op = 2 + i as u64;
        let moves = (0..s.moves).map(|m| Change::Move { id: shape.clone(), x: 10.0 + (m % 500) as f64, y: 10.0 });
        let change = Change::Batch { changes: moves.collect() };
        let sent = Instant::now();
        report.sent += 1;
        match send_until_taken(&url, &room, &honest_id, &mut honest, op, change, &mut report.disconnects).await {
            Ok(()) => {
                times.record(sent.elapsed());
                report.delivered += 1;
            }
            Err(e) => {
                report.errors += 1;
                report.first_problem.get_or_insert(format!("honest change {op}: {e:#}"));
            }
        }
    }
    let after = machine.read()?;
    report.seconds = start.elapsed().as_secs_f64();
    report.expected = report.sent;
    report.lost = report.sent - report.delivered - report.errors;
    report.latency = times.summary();
    machine.report(before, after, &mut report);
    report.params.push_str(&format!("; the flood refused {} times", refused.load(Ordering::Relaxed)));
    let _ = stop.send(true);
    for f in flood {
        let _ = f.await;
    }
    Ok(report)
}

/// Sends change `op` in parts until the server takes it, reconnecting after
/// each `busy` with the page's backoff; counts the reconnections.
async fn send_until_taken(
    url: &str,
    room: &RoomName,
    id: &ClientId,
    ws: &mut Socket,
    op: u64,
    change: Change,
    retries: &mut u64,
) -> anyhow::Result<()> {
    let messages = ClientMsg::for_change(op, change);
    anyhow::ensure!(messages.len() == 2, "the honest change took {} messages, not 2", messages.len());
    let deadline = Instant::now() + CHANGE_LIMIT;
    let mut failures = 0u32;
    loop {
        for msg in &messages {
            ws.send(super::wire::frame(msg.to_json())).await.context("sending a part")?;
        }
        match confirmed(ws, op).await {
            Ok(()) => return Ok(()),
            Err(Refused::Busy) => {}
            Err(Refused::Other(e)) => return Err(e),
        }
        failures += 1;
        *retries += 1;
        let backoff = 250.0 * 2f64.powi(failures.saturating_sub(1).min(6) as i32);
        tokio::time::sleep(Duration::from_millis(backoff.min(10_000.0) as u64 * 3 / 4)).await;
        // (A new connection either way: the next change goes on it.)
        *ws = client::join_from(url, room, id, Some(HONEST)).await?.0;
        if Instant::now() >= deadline {
            bail!("not taken within {CHANGE_LIMIT:?}");
        }
    }
}

enum Refused {
    Busy,
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Refused {
    fn from(e: anyhow::Error) -> Self {
        Refused::Other(e)
    }
}

/// Reads until change `op` is confirmed; `busy` for it (and the close after) is `Refused::Busy`.
async fn confirmed(ws: &mut Socket, op: u64) -> Result<(), Refused> {
    loop {
        match client::read(ws).await? {
            Received::Msg(_, ServerMsg::Applied { op: Some(o), .. }) if o == op => return Ok(()),
            // Too large to come back in one message: its last part confirms it.
            Received::Msg(_, ServerMsg::AppliedPart { op: Some(o), part, parts, .. })
                if o == op && part + 1 == parts =>
            {
                return Ok(());
            }
            Received::Msg(_, ServerMsg::Error { code: ErrorCode::Busy, op: Some(o), .. }) if o == op => {
                return Err(Refused::Busy);
            }
            Received::Msg(_, ServerMsg::Error { code, message, op: Some(o) }) if o == op => {
                return Err(Refused::Other(anyhow::anyhow!("refused: {code:?}: {message}")));
            }
            Received::Closed(why) => return Err(Refused::Other(anyhow::anyhow!("closed: {why}"))),
            _ => {}
        }
    }
}

/// One flooding connection: a full first part of a 64-part change, never
/// followed; whenever it is refused (abandoned to make room, or `busy`), at
/// once another, on a new connection when the server closed this one.
async fn hammer(
    url: &str,
    room: &RoomName,
    id: &ClientId,
    address: &str,
    mut stopped: watch::Receiver<bool>,
    refused: &AtomicU64,
    started: &AtomicU64,
) {
    let first = full_first_part();
    let mut op = 1u64;
    let mut counted = false;
    while !*stopped.borrow() {
        let Ok((mut ws, _)) = client::join_from(url, room, id, Some(address)).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        loop {
            let text = first.replace("\"op\":1,", &format!("\"op\":{op},"));
            if ws.send(super::wire::frame(text)).await.is_err() {
                break;
            }
            if !counted {
                counted = true;
                started.fetch_add(1, Ordering::Relaxed);
            }
            op += 1;
            // Until it is refused: then another at once.
            let answer = loop {
                let answer = tokio::select! {
                    answer = client::read(&mut ws) => answer,
                    _ = stopped.changed() => return,
                };
                match answer {
                    Ok(Received::Msg(_, ServerMsg::Error { op: Some(_), .. })) => break true,
                    Ok(Received::Msg(..) | Received::Unreadable(_)) => {}
                    Ok(Received::Closed(_)) | Err(_) => break false,
                }
            };
            if !answer {
                break;
            }
            refused.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Members of `room` that send the largest selection allowed (500 ids of 64
/// characters), over and over as fast as the server reads them, and read
/// (and drop) whatever they are sent; they stop when the guard is dropped.
/// Each says it comes from an address of its own (`X-Forwarded-For`): run
/// the server with `--trusted-proxies 127.0.0.1` for 50 addresses, without
/// for one.
pub(crate) async fn selection_flood(
    target: &Run,
    room: &RoomName,
    first_id: usize,
    count: usize,
) -> anyhow::Result<Flood> {
    let ids: Vec<String> = (0..MAX_SHOWN_SELECTION).map(|i| format!("{i:064}")).collect();
    let selection = serde_json::json!({"type": "selection", "ids": ids}).to_string();
    let mut tasks = Vec::new();
    for i in first_id..first_id + count {
        // Each from an address of its own, if the server trusts the generator as a proxy.
        let address = format!("10.2.{}.{}", i / 250 % 250, i % 250);
        let (ws, _) = client::join_from(target.url_for(i), room, &target.client_id(i)?, Some(&address)).await?;
        let (mut sink, mut stream) = ws.split();
        let selection = selection.clone();
        tasks.push(tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} }));
        tasks
            .push(tokio::spawn(async move { while sink.send(super::wire::frame(selection.clone())).await.is_ok() {} }));
    }
    Ok(Flood(tasks))
}

/// Flooding tasks, stopped when dropped.
pub(crate) struct Flood(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Flood {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Part 0 of a 64-part change (op 1), as large as a message may be.
fn full_first_part() -> String {
    let one = r#"{"op":"move","id":"b","x":1,"y":1}"#;
    let n = (MAX_MESSAGE_BYTES - 200) / (one.len() + 1);
    let moves = vec![one; n].join(",");
    format!(r#"{{"type":"part","op":1,"part":0,"parts":{MAX_PARTS},"changes":[{moves}]}}"#)
}
