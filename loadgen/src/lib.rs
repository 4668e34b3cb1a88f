//! The load generator: real WebSocket clients speaking the real protocol
//! against a running server, measuring what the people in a room would feel.
//! `src/main.rs` is its command line; `docs/benchmarks.md` its method
//! and results.
//!
//! - `traffic`: scenarios 1, 2, 3, 6, 8 and 12 (moving shapes, counting every
//!   copy; in 8, with everyone's pointers moving too; in 12, typing letters);
//! - `joins`: scenarios 4, 5 and 7 (a join storm, idle and stalled connections);
//! - `history`: scenario 9 (seeking to versions of a room with a long log);
//! - `abuse`: scenario 10 (an honest import while many addresses flood the
//!   server's room for changes in parts); `pictures`: scenario 11 (a crowd
//!   asking for pictures of full boards while a newcomer joins);
//! - `run`: where a scenario runs (the server, names); `args`: the command line;
//! - `client`: one connection; `ledger`: schedules and tallies;
//! - `report`: histograms and the printed row; `procfs`: the server's CPU and memory.

mod abuse;
mod args;
mod client;
mod history;
mod joins;
mod ledger;
mod pictures;
mod procfs;
mod report;
mod run;
mod traffic;
mod wire;

pub use args::{
    Ack, AllToAll, Args, Fanout, History, Idle, JoinStorm, Length, PartsFlood, Pictures, PresenceLoad, Rooms, Scenario,
    Stalled, TypingLoad,
};
pub use report::{Report, ServerUse, Summary};
pub use run::Run;
use traffic::{FirstRoom, Plan, RoomPlan};
pub use wire::Target;

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
            let plan = Plan { stagger: false, ..Plan::moving("fanout", params, rooms, s.rate_hz, changes) };
            traffic::run(target, plan, FirstRoom { shapes: s.shapes, stalled: s.stalled, flooders: 0 }).await
        }
        Scenario::Rooms(s) => {
            let changes = s.length.count(s.rate_hz);
            let params = format!("{} rooms × {} members, {} Hz, {changes} changes", s.rooms, s.members, s.rate_hz);
            let rooms = vec![RoomPlan { senders: s.members, readers: 0, senders_receive: true }; s.rooms];
            traffic::run(
                target,
                Plan::moving("rooms", params, rooms, s.rate_hz, changes),
                FirstRoom { shapes: s.shapes, stalled: 0, flooders: 0 },
            )
            .await
        }
        Scenario::AllToAll(s) => {
            let params = format!("{} members, 1 change each", s.members);
            let rooms = vec![RoomPlan { senders: s.members, readers: 0, senders_receive: true }];
            // One change each, all due at the same instant: the rate is moot.
            let plan = Plan { stagger: false, ..Plan::moving("all-to-all", params, rooms, 1.0, 1) };
            traffic::run(target, plan, FirstRoom::default()).await
        }
        Scenario::Ack(s) => {
            let changes = s.length.count(s.rate_hz);
            let params = format!("{} writers in own rooms, {} Hz, {changes} changes", s.writers, s.rate_hz);
            let rooms = vec![RoomPlan { senders: 1, readers: 0, senders_receive: false }; s.writers];
            let plan = Plan::moving("ack", params, rooms, s.rate_hz, changes);
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
            let mut params = format!(
                "{} people, {} dragging at {} Hz, pointers at {} Hz, {changes} changes",
                s.people, s.draggers, s.rate_hz, s.pointer_hz
            );
            if s.flood_selections > 0 {
                params.push_str(&format!(", {} flooding the largest selections", s.flood_selections));
            }
            let rooms = vec![RoomPlan { senders: s.draggers, readers: s.people - s.draggers, senders_receive: true }];
            let plan = Plan { pointer_hz: s.pointer_hz, ..Plan::moving("presence", params, rooms, s.rate_hz, changes) };
            traffic::run(target, plan, FirstRoom { flooders: s.flood_selections, ..FirstRoom::default() }).await
        }
        Scenario::Typing(s) => {
            let changes = s.length.count(s.rate_hz);
            let params = format!(
                "{} typing in their own shapes, {} dragging, {} Hz each, {changes} changes",
                s.typists, s.draggers, s.rate_hz
            );
            let rooms = vec![RoomPlan { senders: s.typists + s.draggers, readers: s.readers, senders_receive: true }];
            let plan = Plan { typists: s.typists, ..Plan::moving("typing", params, rooms, s.rate_hz, changes) };
            traffic::run(target, plan, FirstRoom::default()).await
        }
        Scenario::JoinStorm(s) => joins::storm(target, s).await,
        Scenario::Idle(s) => joins::idle(target, s).await,
        Scenario::Stalled(s) => joins::stalled(target, s).await,
        Scenario::History(s) => history::run(target, s).await,
        Scenario::PartsFlood(s) => abuse::parts_flood(target, s).await,
        Scenario::Pictures(s) => pictures::run(target, s).await,
    }
}
