//! The load generator: real WebSocket clients speaking the real protocol
//! against a running server, measuring what the people in a room would feel.
//! `src/main.rs` is its command line; `docs/benchmarks.md` its method
//! and results.
//!
//! - `traffic`: scenarios 1, 2, 3, 6 and 8 (moving shapes, counting every copy;
//!   in 8, with everyone's pointers moving too);
//! - `joins`: scenarios 4, 5 and 7 (a join storm, idle and stalled connections);
//! - `history`: scenario 9 (seeking to versions of a room with a long log);
//! - `client`: one connection; `ledger`: schedules and tallies;
//! - `report`: histograms and the printed row; `procfs`: the server's CPU and memory.

mod client;
mod history;
mod joins;
mod ledger;
mod procfs;
mod report;
mod traffic;
mod wire;

use std::time::{Duration, Instant};

use anyhow::Context;

pub use report::{Report, ServerUse, Summary};
use traffic::{FirstRoom, Plan, RoomPlan};
pub use wire::Target;

use sketchboard_core::model::{ClientId, RoomName};

/// How many connections are being opened at any one time during setup.
const SETUP_CONCURRENCY: usize = 64;

/// The command line.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "loadgen", about = "Load generator for a running Sketchboard server (see docs/benchmarks.md)")]
pub struct Args {
    /// The server, as ws://HOST:PORT; several nodes of one deployment comma-separated
    /// (connection i goes to node i mod their number, so every room's members are split).
    #[arg(long, global = true, default_value = "ws://127.0.0.1:3000")]
    pub server: String,

    /// What the server is: Sketchboard, or one of the programs under bench/
    /// it is measured against (docs/benchmarks.md).
    #[arg(long, global = true, value_enum, default_value_t = Target::Sketchboard)]
    pub target: Target,

    /// With several nodes: send each room's members to one node (room r to
    /// node r mod n), as a load balancer routing by room does, instead of
    /// splitting every room's members.
    #[arg(long, global = true)]
    pub route_by_room: bool,

    /// The server's process id, to read its CPU time and memory from /proc;
    /// several comma-separated (the nodes, and Redis) to add theirs up.
    #[arg(long, global = true, value_delimiter = ',')]
    pub server_pid: Vec<u32>,

    /// Print the report as JSON instead of a Markdown table row.
    #[arg(long, global = true)]
    pub json: bool,

    /// Seconds to wait, after the last scheduled send, for copies still on their way.
    #[arg(long, global = true, default_value_t = 5.0)]
    pub drain_secs: f64,

    /// Log filter, in tracing's EnvFilter syntax.
    #[arg(long, global = true, env = "RUST_LOG", default_value = "warn,sketchboard=info")]
    pub log: String,

    #[command(subcommand)]
    pub scenario: Scenario,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Scenario {
    /// 1. One room: one writer dragging a shape, N readers.
    Fanout(Fanout),
    /// 2. Many rooms, every member moving its own shape.
    Rooms(Rooms),
    /// 3. All-to-all: N members each send one change at the same instant.
    AllToAll(AllToAll),
    /// 4. Join storm: many clients join a room holding many shapes at once.
    JoinStorm(JoinStorm),
    /// 5. Idle connections: the server's memory per connection.
    Idle(Idle),
    /// 6. Durable acknowledgement: from send to the author's confirmation.
    Ack(Ack),
    /// 7. Stalled members: many join a full room and never read a byte.
    Stalled(Stalled),
    /// 8. Presence: people in one room all moving their pointers while some drag shapes.
    Presence(PresenceLoad),
    /// 9. History: seeks to random versions of a room with a long log.
    History(History),
}

#[derive(Debug, Clone, clap::Args)]
pub struct History {
    /// Moves in the log after the shapes are made (each one change).
    #[arg(long, default_value_t = 100_000)]
    pub changes: usize,
    #[arg(long, default_value_t = 1000)]
    pub shapes: usize,
    /// Connections writing the log at once (the server paces each one: run it
    /// with a high --rate-per-sec to write a long log quickly).
    #[arg(long, default_value_t = 4)]
    pub writers: usize,
    #[arg(long, default_value_t = 200)]
    pub seeks: usize,
}

/// How long each sender goes on.
#[derive(Debug, Clone, clap::Args)]
pub struct Length {
    /// Seconds each sender sends for.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Exactly this many changes per sender (instead of --seconds' worth).
    #[arg(long)]
    pub changes: Option<u64>,
}

impl Length {
    pub fn changes(n: u64) -> Length {
        Length { seconds: 0.0, changes: Some(n) }
    }

    fn count(&self, rate_hz: f64) -> u64 {
        self.changes.unwrap_or((self.seconds * rate_hz).round().max(1.0) as u64)
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct Fanout {
    #[arg(long, default_value_t = 100)]
    pub readers: usize,
    /// Shapes put in the room before the run (a full room is 10,000).
    #[arg(long, default_value_t = 0)]
    pub shapes: usize,
    /// Members that join the room first and never read a byte (scenario 7's
    /// stalled members), there for the whole run.
    #[arg(long, default_value_t = 0)]
    pub stalled: usize,
    #[arg(long, default_value_t = 60.0)]
    pub rate_hz: f64,
    #[command(flatten)]
    pub length: Length,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Rooms {
    #[arg(long, default_value_t = 100)]
    pub rooms: usize,
    /// Members per room, each moving its own shape.
    #[arg(long, default_value_t = 10)]
    pub members: usize,
    #[arg(long, default_value_t = 20.0)]
    pub rate_hz: f64,
    /// Shapes put in the first room before the run.
    #[arg(long, default_value_t = 0)]
    pub shapes: usize,
    #[command(flatten)]
    pub length: Length,
}

#[derive(Debug, Clone, clap::Args)]
pub struct AllToAll {
    #[arg(long, default_value_t = 100)]
    pub members: usize,
}

#[derive(Debug, Clone, clap::Args)]
pub struct JoinStorm {
    #[arg(long, default_value_t = 1000)]
    pub joiners: usize,
    /// Shapes the generator puts in the room first.
    #[arg(long, default_value_t = 10_000)]
    pub shapes: usize,
    /// Connections that fill the room, in parallel.
    #[arg(long, default_value_t = 20)]
    pub fillers: usize,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Idle {
    #[arg(long, default_value_t = 2000)]
    pub connections: usize,
    /// Rooms the connections are spread over.
    #[arg(long, default_value_t = 20)]
    pub rooms: usize,
    /// Seconds to hold the connections open before reading the server's memory.
    #[arg(long, default_value_t = 3.0)]
    pub hold_secs: f64,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Stalled {
    /// Members that say hello and then never read.
    #[arg(long, default_value_t = 300)]
    pub members: usize,
    /// Shapes the generator puts in the room first.
    #[arg(long, default_value_t = 10_000)]
    pub shapes: usize,
    /// Connections that fill the room, in parallel.
    #[arg(long, default_value_t = 20)]
    pub fillers: usize,
    /// Seconds to hold them before reading the server's memory.
    #[arg(long, default_value_t = 3.0)]
    pub hold_secs: f64,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Ack {
    /// Writers, each alone in its own room.
    #[arg(long, default_value_t = 10)]
    pub writers: usize,
    #[arg(long, default_value_t = 20.0)]
    pub rate_hz: f64,
    #[command(flatten)]
    pub length: Length,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PresenceLoad {
    /// People in the room, every one moving a pointer.
    #[arg(long, default_value_t = 10)]
    pub people: usize,
    /// Of them, how many also drag a shape.
    #[arg(long, default_value_t = 2)]
    pub draggers: usize,
    /// Pointer reports per second per person (0: none, the baseline).
    #[arg(long, default_value_t = 30.0)]
    pub pointer_hz: f64,
    /// Moves per second per dragger.
    #[arg(long, default_value_t = 60.0)]
    pub rate_hz: f64,
    #[command(flatten)]
    pub length: Length,
}

/// Where and how one scenario runs.
#[derive(Debug, Clone)]
pub struct Run {
    /// ws://HOST:PORT of each node (one, unless several share the rooms).
    pub urls: Vec<String>,
    /// Room r's members all go to node r mod n (else connection i to node i mod n).
    pub route_by_room: bool,
    pub server_pids: Vec<u32>,
    pub drain: Duration,
    /// Makes this run's room names and client ids its own, so runs against one
    /// server never meet (or trip over each other's `op` numbers).
    nonce: String,
}

impl Run {
    /// `urls`: one or several comma-separated; `server_pids`: the processes whose use is reported, added up.
    pub fn new(urls: &str, server_pids: Vec<u32>, drain: Duration) -> Run {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let nonce = format!("{:x}{:x}", since_epoch.as_millis(), std::process::id());
        let urls = urls.split(',').map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned).collect();
        Run { urls, route_by_room: false, server_pids, drain, nonce }
    }

    /// The node connection `i` goes to.
    fn url_for(&self, i: usize) -> &str {
        self.urls.get(i % self.urls.len().max(1)).map_or("ws://127.0.0.1:3000", String::as_str)
    }

    fn room_name(&self, label: &str) -> anyhow::Result<RoomName> {
        let name = format!("lg{}-{label}", self.nonce);
        RoomName::parse(&name).with_context(|| format!("room name {name:?}"))
    }

    fn client_id(&self, i: usize) -> anyhow::Result<ClientId> {
        let name = format!("lg{}-c{i}", self.nonce);
        ClientId::parse(&name).with_context(|| format!("client id {name:?}"))
    }

    /// The ids of the connections that fill a room first, apart from everyone else's.
    fn filler_id(&self, i: usize) -> anyhow::Result<ClientId> {
        let name = format!("lg{}-f{i}", self.nonce);
        ClientId::parse(&name).with_context(|| format!("client id {name:?}"))
    }

    fn watch(&self) -> anyhow::Result<procfs::Watch> {
        procfs::Watch::start(&self.server_pids)
    }
}

impl Args {
    pub fn run(&self) -> Run {
        wire::choose(self.target);
        let run = Run::new(&self.server, self.server_pid.clone(), Duration::from_secs_f64(self.drain_secs.max(0.0)));
        Run { route_by_room: self.route_by_room, ..run }
    }
}

/// Runs one scenario and reports on it.
pub async fn run(target: &Run, scenario: &Scenario) -> anyhow::Result<Report> {
    match scenario {
        Scenario::Fanout(s) => {
            let changes = s.length.count(s.rate_hz);
            let mut params = format!("1 writer, {} readers, {} Hz, {changes} changes", s.readers, s.rate_hz);
            if s.shapes > 0 {
                params.push_str(&format!(", {} shapes", s.shapes));
            }
            if s.stalled > 0 {
                params.push_str(&format!(", {} members never reading", s.stalled));
            }
            let rooms = vec![RoomPlan { senders: 1, readers: s.readers, senders_receive: false }];
            let plan = Plan {
                scenario: "fanout",
                params,
                rooms,
                rate_hz: s.rate_hz,
                changes,
                stagger: false,
                pointer_hz: 0.0,
            };
            traffic::run(target, plan, FirstRoom { shapes: s.shapes, stalled: s.stalled }).await
        }
        Scenario::Rooms(s) => {
            let changes = s.length.count(s.rate_hz);
            let params = format!("{} rooms × {} members, {} Hz, {changes} changes", s.rooms, s.members, s.rate_hz);
            let rooms = vec![RoomPlan { senders: s.members, readers: 0, senders_receive: true }; s.rooms];
            traffic::run(
                target,
                Plan { scenario: "rooms", params, rooms, rate_hz: s.rate_hz, changes, stagger: true, pointer_hz: 0.0 },
                FirstRoom { shapes: s.shapes, stalled: 0 },
            )
            .await
        }
        Scenario::AllToAll(s) => {
            let params = format!("{} members, 1 change each", s.members);
            let rooms = vec![RoomPlan { senders: s.members, readers: 0, senders_receive: true }];
            // One change each, all due at the same instant: the rate is moot.
            let plan = Plan {
                scenario: "all-to-all",
                params,
                rooms,
                rate_hz: 1.0,
                changes: 1,
                stagger: false,
                pointer_hz: 0.0,
            };
            traffic::run(target, plan, FirstRoom::default()).await
        }
        Scenario::Ack(s) => {
            let changes = s.length.count(s.rate_hz);
            let params = format!("{} writers in own rooms, {} Hz, {changes} changes", s.writers, s.rate_hz);
            let rooms = vec![RoomPlan { senders: 1, readers: 0, senders_receive: false }; s.writers];
            let plan =
                Plan { scenario: "ack", params, rooms, rate_hz: s.rate_hz, changes, stagger: true, pointer_hz: 0.0 };
            let mut report = traffic::run(target, plan, FirstRoom::default()).await?;
            // Nobody else receives these changes: the confirmations are the measure.
            report.measures = "ack";
            report.latency = report.ack.clone();
            report.expected = report.sent;
            report.delivered = report.ack.as_ref().map_or(0, |a| a.count);
            report.lost = report.expected.saturating_sub(report.delivered);
            if report.seconds > 0.0 {
                report.per_second = Some(report.delivered as f64 / report.seconds);
            }
            Ok(report)
        }
        Scenario::Presence(s) => {
            anyhow::ensure!(s.draggers <= s.people, "draggers are some of the people");
            let changes = s.length.count(s.rate_hz);
            let params = format!(
                "{} people, {} dragging at {} Hz, pointers at {} Hz, {changes} changes",
                s.people, s.draggers, s.rate_hz, s.pointer_hz
            );
            let rooms = vec![RoomPlan { senders: s.draggers, readers: s.people - s.draggers, senders_receive: true }];
            let plan = Plan {
                scenario: "presence",
                params,
                rooms,
                rate_hz: s.rate_hz,
                changes,
                stagger: true,
                pointer_hz: s.pointer_hz,
            };
            traffic::run(target, plan, FirstRoom::default()).await
        }
        Scenario::JoinStorm(s) => joins::storm(target, s).await,
        Scenario::Idle(s) => joins::idle(target, s).await,
        Scenario::Stalled(s) => joins::stalled(target, s).await,
        Scenario::History(s) => history::run(target, s).await,
    }
}

/// Polls `done` until it holds or `limit` passes; whether it held.
async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
