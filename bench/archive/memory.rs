//! Redis memory for one room of many changes, with and without the archive
//! (`--history-url`): appends CHANGES moves, in batches of 20 as a busy room
//! records them, with a snapshot every 256 changes as the room actor keeps
//! them, to one room of a plain Redis store and one of a store that archives
//! to PostgreSQL (hot tail 1000, the default); waits for the archive to catch
//! up; prints each room's bytes in Redis (`MEMORY USAGE` of all its keys).
//! Run by `bench/archive-memory.sh`, which starts Redis and PostgreSQL.
//!
//!   archive_memory REDIS_URL POSTGRES_URL [CHANGES]

use std::time::Duration;

use anyhow::{Context, bail};
use sketchboard::server::testing::{Append, Claim, Node, Record, Snapshot, Store, redis_store, redis_store_archived};
use sketchboard_core::model::{Board, Change, ClientId, RoomName, Shape, ShapeId, ShapeKind};

const BATCH: u64 = 20;
const SNAPSHOT_EVERY: u64 = 256;
const HOT_TAIL: u64 = 1000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(redis_url), Some(pg_url)) = (args.get(1), args.get(2)) else {
        bail!("usage: archive_memory REDIS_URL POSTGRES_URL [CHANGES]");
    };
    let changes: u64 = args.get(3).map(|n| n.parse()).transpose().context("CHANGES is a number")?.unwrap_or(100_000);
    let node = Node { name: "bench".into(), address: "http://bench.invalid".into() };
    let plain = redis_store(redis_url).await?;
    let archived = redis_store_archived(redis_url, node, Duration::from_secs(60), pg_url, HOT_TAIL).await?;
    let mut redis = redis::Client::open(redis_url.as_str())?.get_multiplexed_async_connection().await?;
    println!("| room of {changes} moves | Redis bytes | per change | log entries in Redis | keyframes in Redis |");
    println!("|---|---|---|---|---|");
    let rooms = [
        ("log kept whole in Redis", "mem-plain", &plain, false),
        ("archived, hot tail 1000", "mem-archived", &archived, true),
    ];
    for (name, room, store, archives) in rooms {
        let room = RoomName::parse(room)?;
        let lease = match store.claim(&room, None).await? {
            Claim::Mine { epoch, .. } => Some(epoch),
            Claim::Theirs(owner) => bail!("the room is {}'s", owner.node.name),
        };
        fill(store, &room, changes, lease).await?;
        let tag = format!("sb:{{{room}}}");
        // The archive works in the background: wait until it is within a segment of the tail.
        loop {
            let mark: Option<u64> =
                redis::cmd("HGET").arg(format!("{tag}:meta")).arg("archived").query_async(&mut redis).await?;
            if !archives || mark.unwrap_or(0) + HOT_TAIL + 256 >= changes {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut bytes = 0u64;
        for part in ["log", "meta", "ops", "snap", "frames", "owner", "lease"] {
            let used: Option<u64> =
                redis::cmd("MEMORY").arg("USAGE").arg(format!("{tag}:{part}")).query_async(&mut redis).await?;
            bytes += used.unwrap_or(0);
        }
        let entries: u64 = redis::cmd("XLEN").arg(format!("{tag}:log")).query_async(&mut redis).await?;
        let frames: u64 = redis::cmd("HLEN").arg(format!("{tag}:frames")).query_async(&mut redis).await?;
        println!("| {name} | {bytes} | {:.1} B | {entries} | {frames} |", bytes as f64 / changes as f64);
    }
    Ok(())
}

/// Appends `changes` moves of 20 shapes to `room`, a batch at a time.
async fn fill(store: &Store, room: &RoomName, changes: u64, lease: Option<u64>) -> anyhow::Result<()> {
    let client = ClientId::parse("bench")?;
    let mut board = Board::new();
    let ids: Vec<ShapeId> = (0..BATCH).map(|i| ShapeId::parse(format!("s{i}"))).collect::<Result<_, _>>()?;
    let mut seq = 0;
    while seq < changes {
        let mut records = Vec::new();
        let mut snapshot = None;
        for i in 0..BATCH.min(changes - seq) {
            seq += 1;
            let id = ids[i as usize].clone();
            let change = if seq <= BATCH {
                Change::Create { shape: Shape::new(id, ShapeKind::Rectangle, 10.0, 10.0) }
            } else {
                Change::Move { id, x: (seq % 1400) as f64, y: (seq % 900) as f64 }
            };
            board.apply(&change)?;
            records.push(Record { seq, client: client.clone(), op: seq, change, by: Some(1) });
            if seq % SNAPSHOT_EVERY == 0 {
                snapshot = Some(Snapshot { board: serde_json::to_string(&board)?, marks: vec![(client.clone(), seq)] });
            }
        }
        let creator = (seq <= BATCH).then(|| "192.0.2.1".to_owned());
        let append =
            Append { records, epoch: 1, creator, snapshot, shape_count: board.len(), lease, ..Default::default() };
        store.append(room, append).await?;
    }
    Ok(())
}
