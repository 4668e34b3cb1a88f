//! The generator's command line: the scenarios and their parameters
//! (`loadgen --help`), turned into a `Run` by `Args::run`.

use std::time::Duration;

use super::run::Run;
use super::wire::{self, Target};

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
    /// 10. Parts flood: honest imports while many addresses flood first parts.
    PartsFlood(PartsFlood),
    /// 11. Pictures: many asking for pictures of full boards while a newcomer joins.
    Pictures(Pictures),
    /// 12. Typing: people typing a letter at a time in their own shapes while others drag.
    Typing(TypingLoad),
}

#[derive(Debug, Clone, clap::Args)]
pub struct TypingLoad {
    /// People typing, each in a shape of their own.
    #[arg(long, default_value_t = 10)]
    pub typists: usize,
    /// People moving a shape of their own, at the same rate.
    #[arg(long, default_value_t = 2)]
    pub draggers: usize,
    /// Members that only watch.
    #[arg(long, default_value_t = 0)]
    pub readers: usize,
    /// Keystrokes (and moves) per second per person.
    #[arg(long, default_value_t = 5.0)]
    pub rate_hz: f64,
    #[command(flatten)]
    pub length: Length,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Pictures {
    /// Clients asking for pictures at once, one after another each.
    #[arg(long, default_value_t = 200)]
    pub requesters: usize,
    /// Rooms whose pictures they ask for.
    #[arg(long, default_value_t = 10)]
    pub rooms: usize,
    /// Shapes in each room.
    #[arg(long, default_value_t = 10_000)]
    pub shapes: usize,
    /// Moves per second in each room while they ask (0: boards that do not change).
    #[arg(long, default_value_t = 2.0)]
    pub edit_hz: f64,
    /// Seconds the asking lasts.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PartsFlood {
    /// Addresses flooding (10.x.y.1, as a trusted proxy names them).
    #[arg(long, default_value_t = 50)]
    pub addresses: usize,
    /// Connections from each address.
    #[arg(long, default_value_t = 8)]
    pub per_address: usize,
    /// Honest changes, one after another.
    #[arg(long, default_value_t = 20)]
    pub changes: usize,
    /// Moves in each honest change (1,500 make two parts).
    #[arg(long, default_value_t = 1500)]
    pub moves: usize,
    /// Seconds the flood runs before the first honest change.
    #[arg(long, default_value_t = 2.0)]
    pub warm_secs: f64,
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

    pub(crate) fn count(&self, rate_hz: f64) -> u64 {
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
    /// Connections more that send the largest selection allowed, over and
    /// over, as fast as the server reads them (a flood of presence).
    #[arg(long, default_value_t = 0)]
    pub flood_selections: usize,
    #[command(flatten)]
    pub length: Length,
}

impl Args {
    pub fn run(&self) -> Run {
        wire::choose(self.target);
        let mut run =
            Run::new(&self.server, self.server_pid.clone(), Duration::from_secs_f64(self.drain_secs.max(0.0)));
        run.route_by_room = self.route_by_room;
        run
    }
}
