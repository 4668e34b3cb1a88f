//! Scenarios 1, 2, 3, 6, 8 and 12: senders that each move their own shape on
//! a fixed schedule (in 12, some type in it instead, a letter a change), and
//! receivers that tally every copy they get; in scenario 8, every member also
//! moves its pointer (presence) the whole time.
//!
//! A run has three phases. Setup: every connection joins (and starts reading
//! at once, so presence updates never pile up), and every sender creates its
//! shape. Measurement: each sender sends change k at `start + offset + (k − 1) ·
//! period`, late or not (open loop), while the receivers record latencies from
//! those due instants. Drain: wait until every expected copy and confirmation
//! has arrived, or the drain limit passes; whatever is missing then is lost.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{StreamExt, TryStreamExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use super::client::{self, Received, Socket};
use super::ledger::{Ledger, MAX_COUNTER, Mark, SenderPlan, Tally};
use super::report::Report;
use super::run::{Run, SETUP_CONCURRENCY, wait_until};
use sketchboard_core::model::{Change, MAX_SHAPES, Shape, ShapeKind};
use sketchboard_core::protocol::ServerMsg;

/// Time between the end of setup and the first scheduled send, so that every
/// sender task is waiting before its first change falls due.
const LEAD: Duration = Duration::from_millis(100);
/// How long setup may take to see every sender's shape confirmed.
const SETUP_LIMIT: Duration = Duration::from_secs(60);

/// Who is in one room.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoomPlan {
    pub senders: usize,
    /// Members that only listen.
    pub readers: usize,
    /// Whether senders also count the copies they receive (their own
    /// confirmation included) as deliveries.
    pub senders_receive: bool,
}

/// A whole traffic scenario.
pub(crate) struct Plan {
    pub scenario: &'static str,
    pub params: String,
    pub rooms: Vec<RoomPlan>,
    pub rate_hz: f64,
    pub changes: u64,
    /// Spread the senders' first sends evenly over one period, as independent
    /// people would be; without it every sender fires at the same instant.
    pub stagger: bool,
    /// Every member also reports its pointer this often (0: never).
    pub pointer_hz: f64,
    /// Senders numbered below this type a letter in their shape instead of
    /// moving it (scenario 12).
    pub typists: usize,
}

impl Plan {
    /// Senders moving their shapes at `rate_hz`, staggered, with no pointers and nobody typing.
    pub(crate) fn moving(
        scenario: &'static str,
        params: String,
        rooms: Vec<RoomPlan>,
        rate_hz: f64,
        changes: u64,
    ) -> Plan {
        Plan { scenario, params, rooms, rate_hz, changes, stagger: true, pointer_hz: 0.0, typists: 0 }
    }
}

/// One connection's part in a run.
#[derive(Debug, Clone, Copy)]
struct Role {
    sender: Option<u32>,
    receives: bool,
}

/// A joined connection: its writing half (for senders) and its reading task.
struct Member {
    sender: Option<u32>,
    sink: SplitSink<Socket, Message>,
    reader: JoinHandle<Tally>,
}

/// What the first room holds before a run starts.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FirstRoom {
    /// Shapes put in it first.
    pub shapes: usize,
    /// Members that join it, say hello and never read a byte, for the whole
    /// run: what they cost the honest members is what the run then measures.
    pub stalled: usize,
    /// Members that join it and send the largest selection allowed, again
    /// and again, as fast as the server reads them, for the whole run.
    pub flooders: usize,
}

/// Runs `plan`, its first room prepared as `first` says.
pub(crate) async fn run(target: &Run, plan: Plan, first: FirstRoom) -> anyhow::Result<Report> {
    anyhow::ensure!(plan.rate_hz.is_finite() && plan.rate_hz > 0.0, "the rate must be a positive number of Hz");
    anyhow::ensure!(plan.changes <= MAX_COUNTER, "at most {MAX_COUNTER} changes per sender fit on the board");
    let period = Duration::from_secs_f64(1.0 / plan.rate_hz);

    // Number the senders and say who is where.
    let total_senders: usize = plan.rooms.iter().map(|r| r.senders).sum();
    let mut roles = Vec::new();
    let mut senders = Vec::new();
    for (r, room_plan) in plan.rooms.iter().enumerate() {
        let room = target.room_name(&format!("{}-{r}", plan.scenario))?;
        let audience = room_plan.readers + if room_plan.senders_receive { room_plan.senders } else { 0 };
        for _ in 0..room_plan.senders {
            let number = senders.len() as u32;
            let offset =
                if plan.stagger { period.mul_f64(number as f64 / total_senders as f64) } else { Duration::ZERO };
            senders.push(SenderPlan { audience: audience as u32, offset });
            roles.push((room.clone(), r, Role { sender: Some(number), receives: room_plan.senders_receive }));
        }
        for _ in 0..room_plan.readers {
            roles.push((room.clone(), r, Role { sender: None, receives: true }));
        }
    }
    let connections = roles.len();
    let first_senders = plan.rooms.first().map_or(0, |r| r.senders);
    anyhow::ensure!(
        first.shapes + first_senders <= MAX_SHAPES,
        "{} shapes and {first_senders} senders' own shapes do not fit in a room of at most {MAX_SHAPES}",
        first.shapes
    );
    if let Some((room, ..)) = roles.first().filter(|_| first.shapes > 0) {
        tracing::info!(shapes = first.shapes, "filling the room");
        super::joins::fill(target, room, first.shapes, 20).await?;
    }
    // Held until the run ends; their ids come after every member's.
    let _stalled = match roles.first() {
        Some((room, ..)) if first.stalled > 0 => {
            tracing::info!(members = first.stalled, "joining members that never read");
            super::joins::never_reading(target, room, connections, first.stalled).await?
        }
        _ => Vec::new(),
    };
    let _flood = match roles.first() {
        Some((room, ..)) if first.flooders > 0 => {
            tracing::info!(members = first.flooders, "joining members that flood selections");
            Some(super::abuse::selection_flood(target, room, connections + first.stalled, first.flooders).await?)
        }
        _ => None,
    };
    let ledger = Arc::new(Ledger::new(period, plan.changes, senders));
    let (stop, stopped) = watch::channel(false);
    let mut report = Report::new(plan.scenario, plan.params, connections, "delivery");
    let machine = target.watch()?;

    // Setup: join, then create each sender's shape.
    tracing::info!(connections, "joining");
    let members: Vec<Member> = futures_util::stream::iter(roles.into_iter().enumerate())
        .map(|(i, (room, r, role))| {
            let (ledger, stopped) = (ledger.clone(), stopped.clone());
            async move {
                let client = target.client_id(i)?;
                let node = if target.route_by_room { r } else { i };
                let (ws, _) = client::join(target.url_for(node), &room, &client).await?;
                let (sink, stream) = ws.split();
                let reader = tokio::spawn(receive(stream, role, ledger, stopped));
                anyhow::Ok(Member { sender: role.sender, sink, reader })
            }
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .try_collect()
        .await?;
    let mut writers = Vec::new();
    let mut pointers = Vec::new();
    let mut readers = Vec::new();
    for mut member in members {
        if let Some(number) = member.sender {
            let shape = Shape::new(Mark::shape_id(number), ShapeKind::Circle, 0.0, 0.0);
            let created = client::send_change(&mut member.sink, 1, Change::Create { shape }).await;
            created.context("creating a sender's shape")?;
            writers.push((number, member.sink));
        } else {
            pointers.push(member.sink);
        }
        readers.push(member.reader);
    }
    let pointer_every = (plan.pointer_hz > 0.0).then(|| Duration::from_secs_f64(1.0 / plan.pointer_hz));
    let all_created = wait_until(SETUP_LIMIT, || ledger.created.load(Ordering::Relaxed) >= total_senders as u64).await;
    anyhow::ensure!(all_created, "not every sender's shape was confirmed within {SETUP_LIMIT:?}");

    // Measurement.
    let before = machine.read()?;
    let start = Instant::now() + LEAD;
    ledger.begin(start);
    tracing::info!(senders = total_senders, changes = plan.changes, "sending");
    let (senders_done, pointing_stops) = watch::channel(false);
    let pointing: Vec<_> = match pointer_every {
        Some(every) => {
            pointers.into_iter().map(|sink| tokio::spawn(point(sink, every, pointing_stops.clone()))).collect()
        }
        None => Vec::new(),
    };
    let sending: Vec<_> = writers
        .into_iter()
        .map(|(n, sink)| {
            let typing = (n as usize) < plan.typists;
            tokio::spawn(send(sink, n, plan.changes, ledger.clone(), pointer_every, typing))
        })
        .collect();
    for task in sending {
        if let Err(e) = task.await.context("a sender task panicked")? {
            tracing::warn!(error = format!("{e:#}"), "a sender stopped early");
            report.errors += 1;
            report.first_problem.get_or_insert(format!("{e:#}"));
        }
    }

    let _ = senders_done.send(true);
    for task in pointing {
        if let Err(e) = task.await.context("a pointer task panicked")? {
            report.errors += 1;
            report.first_problem.get_or_insert(format!("{e:#}"));
        }
    }

    // Drain: everything sent should arrive, each copy once.
    let complete = wait_until(target.drain, || {
        ledger.delivered.load(Ordering::Relaxed) >= ledger.expected()
            && ledger.acked.load(Ordering::Relaxed) >= ledger.sent()
    })
    .await;
    if !complete {
        tracing::warn!("the drain limit passed with copies still missing");
    }
    let after = machine.read()?;
    let _ = stop.send(true);
    let mut tally = Tally::default();
    for reader in readers {
        tally.absorb(reader.await.context("a reader task panicked")?);
    }

    report.sent = ledger.sent();
    report.expected = ledger.expected();
    report.delivered = tally.unique;
    report.lost = report.expected.saturating_sub(tally.unique);
    report.duplicated = tally.duplicated;
    report.out_of_order = tally.out_of_order;
    report.errors += tally.errors;
    report.disconnects = tally.disconnects;
    if report.first_problem.is_none() {
        report.first_problem = tally.first_problem;
    }
    report.latency = ledger.latency.summary();
    report.fanout = ledger.fanout.summary();
    report.ack = ledger.ack.summary();
    // Deliveries per second over the time they took: from the first due send
    // to the last copy (or, with no receivers, the measurement's end).
    let end = tally.last_delivery.unwrap_or_else(Instant::now);
    report.seconds = end.saturating_duration_since(start).as_secs_f64();
    if report.seconds > 0.0 && report.delivered > 0 {
        report.per_second = Some(report.delivered as f64 / report.seconds);
    }
    machine.report(before, after, &mut report);
    Ok(report)
}

/// Sends `changes` moves on the schedule, however late: a stalled server must
/// show up as latency, not as fewer changes sent. With `pointer_every`, reports
/// the pointer that often in between, as a person dragging does.
async fn send(
    mut sink: SplitSink<Socket, Message>,
    sender: u32,
    changes: u64,
    ledger: Arc<Ledger>,
    pointer_every: Option<Duration>,
    typing: bool,
) -> anyhow::Result<()> {
    let mut pointer = pointer_every.map(tokio::time::interval);
    let mut turn = 0u32;
    for counter in 1..=changes {
        let mark = Mark { sender, counter };
        let due = ledger.due(mark).context("the run has not begun")?;
        loop {
            let tick = async {
                match pointer.as_mut() {
                    Some(p) => p.tick().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = tokio::time::sleep_until(due.into()) => break,
                _ = tick => {
                    turn = turn.wrapping_add(1);
                    client::send_pointer(&mut sink, pointer_at(turn)).await?;
                }
            }
        }
        // op 1 was the shape's creation.
        let change = if typing { mark.to_write() } else { mark.to_move() };
        client::send_change(&mut sink, counter + 1, change).await?;
        ledger.record_sent(mark);
    }
    Ok(())
}

/// Reports a pointer every `every` until `stop`.
async fn point(
    mut sink: SplitSink<Socket, Message>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(every);
    let mut turn = 0u32;
    loop {
        tokio::select! {
            _ = stop.changed() => return Ok(()),
            _ = tick.tick() => {
                turn = turn.wrapping_add(1);
                client::send_pointer(&mut sink, pointer_at(turn)).await?;
            }
        }
    }
}

/// A pointer going round in circles on the board.
fn pointer_at(turn: u32) -> [f64; 2] {
    let angle = f64::from(turn) * 0.1;
    [800.0 + 300.0 * angle.cos(), 500.0 + 300.0 * angle.sin()]
}

/// Reads one connection until the run stops or the server closes it.
async fn receive(
    mut stream: SplitStream<Socket>,
    role: Role,
    ledger: Arc<Ledger>,
    mut stopped: watch::Receiver<bool>,
) -> Tally {
    let mut tally = Tally::default();
    loop {
        let incoming = tokio::select! {
            biased;
            _ = stopped.changed() => break,
            incoming = client::read(&mut stream) => incoming,
        };
        let (at, msg) = match incoming {
            Ok(Received::Msg(at, msg)) => (at, msg),
            Ok(Received::Unreadable(what)) => {
                tally.problem(what);
                continue;
            }
            Ok(Received::Closed(why)) => {
                tally.disconnects += 1;
                tally.problem(format!("the server closed a connection: {why}"));
                break;
            }
            Err(e) => {
                tally.disconnects += 1;
                tally.problem(format!("{e:#}"));
                break;
            }
        };
        match msg {
            ServerMsg::Applied { change, op, .. } => match Mark::from_change(&change) {
                Some(mark) => {
                    if op.is_some() {
                        tally.ack(&ledger, mark, at);
                    }
                    if role.receives {
                        tally.delivery(&ledger, mark, at);
                    }
                }
                None if op.is_some() && role.sender.is_some() => {
                    ledger.created.fetch_add(1, Ordering::Relaxed);
                }
                None => {}
            },
            ServerMsg::Error { code, message, op } => {
                tally.problem(format!("the server refused op {op:?}: {code:?}: {message}"));
            }
            // Presence, and whatever later versions of the server add.
            _ => {}
        }
    }
    tally
}
