//! Several nodes on a Redis Cluster (`--redis-url` naming its nodes): three
//! real primaries, two real nodes. A room's keys and channels sit in its
//! slot, so the rooms spread over the primaries; a room's writers and viewers
//! on two nodes see one order and each other's pointers (which cross only by
//! the room's sharded Pub/Sub channel: nothing polls for them); the lobby, whose
//! keys sit on other primaries, lists the rooms on both nodes; and a node that
//! restarts loads its rooms from the cluster; each build's Functions go on
//! every primary beside other builds'. With replicas, a primary killed
//! with SIGKILL loses nothing acknowledged: its replica takes over with every
//! change, and appends are acknowledged again once a replica is back.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;
use sketchboard::server::testing::{Append, FUNCTIONS_VERSION, redis_store, redis_store_replicated};
use sketchboard_core::model::{Change, RoomName};

use crate::common::redis::{RedisCluster, node_at};
use crate::common::{Client, eventually, http_put, whole_log};
use crate::multinode::lobby_line;
use crate::presence::{join_as, presence_until};
use crate::redis_log::{create, library, moved, one};
use crate::sharing::{path_of, viewer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_rooms_spread_over_a_cluster() {
    let (rd, da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let cluster = RedisCluster::start(rd.path());
    let (a, b) = (node_at(&da, &cluster.url).await, node_at(&db, &cluster.url).await);

    let mut alice = join_as(&a, "meet", "alice-tab", "alice").await;
    let alice_is = presence_until(&mut alice, "you", |_| true).await["person"].clone();
    // Bob's tab reaches the other node, which passes it on to the room's owner.
    let mut bob = join_as(&b, "meet", "bob-tab", "bob").await;
    presence_until(&mut bob, "person", |m| m["id"] == alice_is).await;
    // A viewer is served where they are: node b follows the room's log.
    let (status, _, body) = http_put(b.addr, "/api/rooms/meet/view-link", "").await;
    assert_eq!(status, 200, "{body}");
    let (mut vic, _) = viewer(&b, &path_of(&body), "vic-tab").await;

    // Both nodes listen to the room at the primary of its slot, by sharded Pub/Sub.
    let owner = cluster.primary_of("sb:{meet}:tail");
    let listeners = || async {
        let said = owner.cli(&["PUBSUB", "SHARDNUMSUB", "sb:{meet}:tail", "sb:{meet}:presence"]);
        (said.lines().collect::<Vec<_>>() == ["sb:{meet}:tail", "2", "sb:{meet}:presence", "2"]).then_some(())
    };
    eventually("both nodes subscribe to the room's shard channels", Duration::from_millis(50), listeners).await;
    alice.send_json(&json!({"type": "pointer", "at": [120.5, 80]})).await;
    let pointer = presence_until(&mut vic, "pointer", |m| m["person"] == alice_is).await;
    assert_eq!(pointer["at"], json!([120.5, 80.0]), "a pointer crosses to the other node");

    // Changes through both nodes land in one order, and reach the viewer on the other.
    let op = alice.create("x", "circle", 10.0, 10.0).await;
    alice.confirmed(op).await;
    assert_eq!(presence_until(&mut bob, "applied", |_| true).await["seq"], 1);
    let op = bob.create("y", "rectangle", 400.0, 300.0).await;
    assert_eq!(bob.confirmed(op).await["seq"], 2);
    assert_eq!(presence_until(&mut alice, "applied", |_| true).await["seq"], 2);
    assert_eq!(presence_until(&mut vic, "applied", |m| m["seq"] == 2).await["change"]["shape"]["id"], "y");

    // Rooms spread over every primary; both lobbies list them.
    let rooms: Vec<String> = (0..12).map(|i| format!("spread-{i}")).collect();
    for room in &rooms {
        let (mut c, _) = Client::join(&a, room, &format!("{room}-tab")).await;
        let op = c.create("s", "rectangle", 50.0, 50.0).await;
        c.confirmed(op).await;
    }
    let mut holders = HashSet::new();
    for room in &rooms {
        let meta = format!("sb:{{{room}}}:meta");
        let primary = cluster.primary_of(&meta);
        assert_eq!(primary.cli(&["EXISTS", &meta]), "1", "{room} is kept at the primary of its slot");
        holders.insert(primary.url.clone());
    }
    assert_eq!(holders.len(), 3, "twelve rooms use every primary");
    // (At most three rooms from one address are listed, latest first: all these came from one.)
    for node in [&a, &b] {
        let listed = || async { lobby_line(node, "spread-11").await.filter(|(shapes, _)| *shapes == 1) };
        eventually("both lobbies list a room", Duration::from_millis(100), listed).await;
    }

    // The room's slot moves to another primary: Redis ends the shard
    // channel's subscriptions there, and both nodes subscribe again, so
    // pointers still cross.
    let from = cluster.primary_of("sb:{meet}:tail");
    let to = cluster.servers.iter().find(|s| s.url != from.url).unwrap();
    tokio::task::block_in_place(|| RedisCluster::move_slots(from, to));
    assert_eq!(cluster.primary_of("sb:{meet}:tail").url, to.url);
    let resubscribed = || async {
        let said = to.cli(&["PUBSUB", "SHARDNUMSUB", "sb:{meet}:presence"]);
        (said.lines().nth(1) == Some("2")).then_some(())
    };
    eventually("both nodes subscribe at the slot's new primary", Duration::from_millis(50), resubscribed).await;
    alice.send_json(&json!({"type": "pointer", "at": [300, 200]})).await;
    let pointer = presence_until(&mut vic, "pointer", |m| m["person"] == alice_is && m["at"] == json!([300.0, 200.0]));
    pointer.await;

    // A node that restarts loads the room from the cluster.
    drop(alice);
    a.stop().await;
    let a = node_at(&da, &cluster.url).await;
    let (_, again) = Client::join(&a, "meet", "carol").await;
    assert_eq!(again["seq"], json!(2));
    assert_eq!(again["shapes"].as_array().map(Vec::len), Some(2));
}

/// A change of the one tab these tests write as: op n is change n.
fn record(seq: u64, change: Change) -> Append {
    one(seq, "tab", seq, change)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_loses_nothing_acknowledged() {
    let rd = tempfile::tempdir().unwrap();
    let mut cluster = RedisCluster::start_replicated(rd.path(), 1);
    let store = redis_store_replicated(&cluster.url, 1).await.unwrap();
    let room = RoomName::parse("failover").unwrap();
    store.append(&room, record(1, create("a", 0.0))).await.unwrap();
    for seq in 2..=30u64 {
        store.append(&room, record(seq, moved("a", seq as f64))).await.unwrap();
    }

    let killed = cluster.kill_primary_of("sb:{failover}:meta");
    // Its replica takes over with every acknowledged change (reads need no replica).
    let after = eventually("the replica takes over the room's slot", Duration::from_millis(200), || async {
        store.head(&room).await.ok().map(|h| h.seq)
    })
    .await;
    assert_eq!(after, 30, "no acknowledged change lost");

    // With no replica left for the slot, nothing more is acknowledged until
    // the killed server comes back (as a replica).
    let unacknowledged = || async {
        match store.append(&room, record(31, moved("a", 31.0))).await {
            Ok(()) => panic!("acknowledged with no replica to hold it"),
            Err(e) if e.lost_race() || e.to_string().contains("not replicated") => Some(()),
            Err(_) => None, // the client still finding the new primary
        }
    };
    eventually("an append refused for want of a replica", Duration::from_millis(200), unacknowledged).await;
    cluster.servers[killed].restart();
    let appended = || async {
        match store.append(&room, record(31, moved("a", 31.0))).await {
            Ok(()) => Some(()),
            Err(e) if e.lost_race() => Some(()), // an earlier try wrote it, unacknowledged
            Err(_) => None,
        }
    };
    eventually("appends are acknowledged again", Duration::from_millis(200), appended).await;
    let seqs: Vec<u64> = whole_log(&store, &room).await.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=31).collect::<Vec<_>>(), "one gapless log across the failover");
    assert_eq!(store.load_room(&room).await.unwrap().board.shapes().next().map(|s| s.x), Some(31.0));
}

/// A room's slot moves to another primary (`redis-cli --cluster reshard`)
/// while a writer appends to it as fast as it can: every acknowledged change
/// is in the log once, at its seq, in one gapless order, and the room lives
/// on the new primary. (A call that meets the slot half-moved fails, is not
/// acknowledged, and is tried again, as a room actor does.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rooms_slot_moves_while_it_is_written() {
    let rd = tempfile::tempdir().unwrap();
    let cluster = RedisCluster::start(rd.path());
    let store = redis_store_replicated(&cluster.url, 0).await.unwrap();
    let room = RoomName::parse("moving").unwrap();
    store.append(&room, record(1, create("a", 0.0))).await.unwrap();

    let key = "sb:{moving}:meta";
    let from = cluster.primary_of(key);
    let to = cluster.servers.iter().find(|s| s.url != from.url).unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (store, room, done) = (store.clone(), room.clone(), done.clone());
        tokio::spawn(async move {
            let (mut acknowledged, mut refused) = (vec![1u64], 0);
            let mut seq = 2;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                match store.append(&room, record(seq, moved("a", seq as f64))).await {
                    Ok(()) => {
                        acknowledged.push(seq);
                        seq += 1;
                    }
                    // Written by an earlier try, unacknowledged: the next seq.
                    Err(e) if e.lost_race() => seq = store.head(&room).await.map_or(seq, |h| h.seq + 1),
                    Err(_) => {
                        refused += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
            eprintln!("while the slots moved: {} changes acknowledged, {refused} tries refused", acknowledged.len());
            acknowledged
        })
    };
    // (The move blocks this thread; the writer runs on the runtime's other.)
    tokio::task::block_in_place(|| RedisCluster::move_slots(from, to));
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let acknowledged = writer.await.unwrap();

    assert_eq!(cluster.primary_of(key).url, to.url, "the room moved");
    let log = whole_log(&store, &room).await;
    let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "one gapless log");
    assert!(acknowledged.iter().all(|s| seqs.contains(s)), "every acknowledged change is in it");
    assert!(log.iter().all(|e| e.op == e.seq), "each change once, at the seq it was sent for");
    assert!(acknowledged.len() > 50, "the writer kept writing: {} changes", acknowledged.len());
}

/// A rolling upgrade on a cluster: a newer build's library on one primary is
/// left alone; this build's goes on every primary; a primary that lost them
/// (flushed, as a primary newly given slots may be) gets them again from the
/// first call that reaches it; and other code under this build's version on
/// any one primary stops a node from starting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_primary_gets_this_builds_functions_and_keeps_the_others() {
    let rd = tempfile::tempdir().unwrap();
    let cluster = RedisCluster::start(rd.path());
    let (ours, next) = (FUNCTIONS_VERSION, FUNCTIONS_VERSION + 1);
    let newer = &cluster.servers[1];
    assert_eq!(newer.cli(&["FUNCTION", "LOAD", &library(next, "newer code")]), format!("sketchboard_v{next}"));
    let store = redis_store(&cluster.url).await.unwrap();
    for primary in &cluster.servers {
        assert!(primary.cli(&["FUNCTION", "LIST"]).contains(&format!("sketchboard_v{ours}")), "on every primary");
    }
    assert_eq!(newer.cli(&["FCALL", &format!("sb_append_v{next}"), "0"]), "newer code", "left as it was");

    let room = RoomName::parse("upgrade").unwrap();
    let primary = cluster.primary_of("sb:{upgrade}:meta");
    assert_eq!(primary.cli(&["FUNCTION", "FLUSH"]), "OK");
    store.append(&room, record(1, create("a", 0.0))).await.unwrap();
    assert!(primary.cli(&["FUNCTION", "LIST"]).contains(&format!("sketchboard_v{ours}")), "loaded there again");
    assert_eq!(store.head(&room).await.unwrap().seq, 1);

    let other = cluster.servers.iter().find(|s| s.url != primary.url).unwrap();
    other.cli(&["FUNCTION", "DELETE", &format!("sketchboard_v{ours}")]);
    other.cli(&["FUNCTION", "LOAD", &library(ours, "other code")]);
    let refused = redis_store(&cluster.url).await.err().expect("a node with other code under its version refuses");
    assert!(refused.to_string().contains("already exists"), "{refused}");
}
