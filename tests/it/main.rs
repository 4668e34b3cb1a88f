//! The integration tests: a real server on an ephemeral port with a real
//! SQLite file, real WebSocket clients, the real server binary where a test
//! kills it. One test binary, so the server is linked once; one module per
//! behaviour:
//!
//! - `sockets`: real-time behaviour (order, rooms, confirmations, presence);
//! - `editing`: batches, colours and layers; `parts`: batches too large for one message;
//! - `shaping`: resizes and turns, merged by property, refused when bad, kept across restarts;
//! - `typing`: two people typing in one note at once, on one node and on two;
//! - `persist`: what storage keeps across restarts; `resume`: catching up after a drop;
//! - `crash`: SIGKILL while tabs send; `chaos`: seeded random tabs and drops (one node, and two);
//! - `limits`: room, member and rate limits; `hostile`: bad input and origins;
//! - `edge`: half-open connections, rebound names, fragments, protocol violations;
//! - `fairness`: per-address limits, and bursts that must not knock honest members off;
//! - `loadgen`: the load generator counts every copy (never how fast);
//! - `metrics`: `/metrics` scraped after real traffic, JSON logs;
//! - `history`: the changes API, versions across keyframes, restore, export and import;
//! - `pictures`: the SVG, PNG and board file, and many asking for them at once;
//! - `migrate`: `--copy-to-redis`, from one node on SQLite to two on Redis;
//! - `multinode`: two servers on one Redis (one order across nodes, late joiners, restarts);
//! - `multinode_presence`: people, pointers and selections across two nodes;
//! - `node_crash`: one of two nodes on one Redis killed mid-load, again and again; then Redis itself;
//! - `archive`: history archived to a real PostgreSQL, read back as if it never left Redis;
//! - `owners`: one owner per room (leases, fencing, writers relayed to the owner, a paused owner);
//! - `cluster`: two servers on a real Redis Cluster (rooms spread over primaries, sharded Pub/Sub);
//! - `store_contract`: what every storage engine keeps, run on SQLite, a real Redis and a Redis Cluster;
//! - `redis_log`: what only the Redis engine does (two nodes racing to append, kill -9).
#![allow(clippy::unwrap_used)] // tests unwrap what must hold

mod common;

mod archive;
mod chaos;
mod cluster;
mod crash;
mod edge;
mod editing;
mod fairness;
mod faults;
mod history;
mod hostile;
mod limits;
mod loadgen;
mod metrics;
mod migrate;
mod multinode;
mod multinode_presence;
mod node_crash;
mod owners;
mod parts;
mod persist;
mod pictures;
mod presence;
mod redis_log;
mod resume;
mod shaping;
mod sharing;
mod sockets;
mod store_contract;
mod typing;
