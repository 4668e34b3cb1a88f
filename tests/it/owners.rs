//! One owner per room (`--redis-url`): a room is appended to by one node at a
//! time, the one holding its lease in Redis, and the append Function refuses
//! any other (fencing). The lease itself, claimed, renewed, released and
//! taken over through real Redis; a writer who reaches another node is
//! relayed to the owner, frame by frame; and an owner paused with SIGSTOP
//! past its lease wakes fenced, closes its members, and loses nothing
//! acknowledged: they resume on the new owner (on one Redis, and on a Redis
//! Cluster with the history in PostgreSQL and a hot tail of one change).

use std::time::Duration;

use serde_json::json;
use sketchboard::server::testing::{
    Append, Claim, Node, StoreError, redis_store, redis_store_archived, redis_store_of_node,
};
use sketchboard_core::model::RoomName;
use sketchboard_core::protocol::PROTOCOL_VERSION;

use crate::common::postgres::PgServer;
use crate::common::redis::{RedisCluster, RedisServer, node};
use crate::common::{Client, TestServer, eventually, get_json, metric, try_connect_with, whole_log};
use crate::crash::start_server_with;
use crate::redis_log::{create, moved, one};

fn node_called(name: &str) -> Node {
    Node { name: name.to_owned(), address: format!("http://{name}.invalid") }
}

/// `append` as a holder of `lease` would send it.
fn under(lease: u64, append: Append) -> Append {
    Append { lease: Some(lease), ..append }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_lets_one_node_append_and_fences_the_one_before() {
    let rd = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(rd.path());
    let lease = Duration::from_millis(400);
    let a = redis_store_of_node(&redis.url, node_called("a"), lease).await.unwrap();
    let b = redis_store_of_node(&redis.url, node_called("b"), lease).await.unwrap();
    let room = RoomName::parse("leased").unwrap();
    assert_eq!(b.owner(&room).await.unwrap(), None, "nobody owns a room nobody claimed");

    let Claim::Mine { epoch: first, lasts } = a.claim(&room, None).await.unwrap() else { panic!("a claims it") };
    assert_eq!((first, lasts), (1, Some(lease)));
    let Claim::Theirs(owner) = b.claim(&room, None).await.unwrap() else { panic!("b is kept out") };
    assert_eq!((owner.node, owner.epoch, owner.live, owner.here), (node_called("a"), 1, true, false));
    assert!(a.owner(&room).await.unwrap().is_some_and(|o| o.here && o.live), "a sees itself as the owner");
    a.append(&room, under(1, one(1, "t", 1, create("s", 1.0)))).await.expect("the owner appends");
    let refused = b.append(&room, under(1, one(2, "u", 1, moved("s", 5.0)))).await;
    assert!(matches!(&refused, Err(StoreError::Fenced { owner }) if owner == "a"), "{refused:?}");

    // a renews within its lease and keeps the room; then stops renewing.
    assert_eq!(a.claim(&room, Some(1)).await.unwrap(), Claim::Mine { epoch: 1, lasts: Some(lease) });
    let taken = || async { matches!(b.claim(&room, None).await.unwrap(), Claim::Mine { .. }).then_some(()) };
    eventually("b takes the room once a's lease runs out", Duration::from_millis(50), taken).await;
    let owner = a.owner(&room).await.unwrap().expect("an owner");
    assert_eq!((owner.node.name.as_str(), owner.epoch), ("b", 2), "a new epoch");
    // a, waking late, is fenced: its renewal and its append are refused, and
    // its append recorded nothing.
    assert!(matches!(a.claim(&room, Some(1)).await.unwrap(), Claim::Theirs(o) if o.node.name == "b"));
    let late = a.append(&room, under(1, one(2, "t", 2, moved("s", 9.0)))).await;
    assert!(matches!(late, Err(StoreError::Fenced { .. })), "{late:?}");
    b.append(&room, under(2, one(2, "u", 1, moved("s", 5.0)))).await.expect("the new owner appends");
    assert_eq!(whole_log(&b, &room).await.len(), 2, "only the owners' changes are in the log");

    // A released lease lets another node in at once; a renewal after the
    // lease ran out with nobody taking the room keeps it (nobody else wrote).
    b.release(&room, 2).await.unwrap();
    let Claim::Mine { epoch: third, .. } = a.claim(&room, None).await.unwrap() else { panic!("free at once") };
    assert_eq!(third, 3);
    let lapsed = || async { (!a.owner(&room).await.unwrap().is_some_and(|o| o.live)).then_some(()) };
    eventually("a's lease runs out", Duration::from_millis(50), lapsed).await;
    assert_eq!(a.claim(&room, Some(3)).await.unwrap(), Claim::Mine { epoch: 3, lasts: Some(lease) });
    a.append(&room, under(3, one(3, "t", 2, moved("s", 9.0)))).await.expect("still the owner");
    // A store outside the leases (the copy tool) is not fenced; nodes never are outside.
    let tool = redis_store(&redis.url).await.unwrap();
    assert!(matches!(tool.claim(&room, None).await.unwrap(), Claim::Mine { epoch: 0, lasts: None }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_on_another_node_is_relayed_to_the_owner() {
    let (rd, da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let redis = RedisServer::start(rd.path());
    let (a, b) = (node(&da, &redis).await, node(&db, &redis).await);

    let (mut alice, _) = Client::join(&a, "relayed", "alice").await;
    let op = alice.create("x", "circle", 10.0, 10.0).await;
    alice.confirmed(op).await;
    // Bob's page came from node b: the owner judges his page's origin as b would.
    let b_addr = b.addr.to_string();
    let (mut bob, welcome) = hello_at(&b_addr, "relayed", "bob", None).await;
    assert_eq!(welcome["seq"], 1, "bob, on node b, is welcomed by the owner: {welcome}");
    assert_eq!(metric(b.addr, "sketchboard_sockets_forwarded_total").await, 1.0);
    let op = bob.create("y", "rectangle", 400.0, 300.0).await;
    assert_eq!(bob.confirmed(op).await["seq"], 2);
    assert_eq!(alice.recv_event().await["seq"], 2, "alice sees bob's change");
    // Both nodes name the same owner; only a holds the room for writing.
    let (_, on_a) = get_json(a.addr, "/api/rooms/relayed").await;
    let (_, on_b) = get_json(b.addr, "/api/rooms/relayed").await;
    assert_eq!(on_a["owner"], on_b["owner"]);
    assert_eq!((on_a["owner"]["epoch"].clone(), on_a["owner"]["live"].clone()), (json!(1), json!(true)));

    // The owner stops: its lease goes back with its rooms, so bob's tab,
    // closed as a restart (1012), resumes on node b at once, which owns the
    // room now, with everything recorded.
    drop(alice);
    a.stop().await;
    let close = bob.closed().await.expect("a close frame, relayed");
    assert_eq!(u16::from(close.code), 1012, "{close:?}");
    let (bob, answer) = Client::rejoin(&b, "relayed", "bob", welcome["epoch"].as_u64().unwrap(), 2).await;
    assert_eq!(
        (answer["type"].clone(), answer["from"].clone(), answer["last_op"].clone()),
        (json!("catch_up"), json!(2), json!(1))
    );
    let mut bob = bob.ops_after(1);
    let bob_op = bob.move_to("y", 5.0, 5.0).await;
    assert_eq!(bob.confirmed(bob_op).await["seq"], 3);
    let (_, now) = get_json(b.addr, "/api/rooms/relayed").await;
    assert_eq!((now["owner"]["epoch"].clone(), now["seq"].clone()), (json!(2), json!(3)), "{now}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_arriving_at_both_nodes_at_once_meet_at_one_owner() {
    let (rd, da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let redis = RedisServer::start(rd.path());
    let (a, b) = (node(&da, &redis).await, node(&db, &redis).await);
    for round in 0..4 {
        // Both nodes find the room free at once: one claims it, the other relays.
        let room = format!("rush-{round}");
        let joins = (0..8).map(|i| {
            let (server, tab) = (if i % 2 == 0 { &a } else { &b }, format!("tab-{i}"));
            let room = room.clone();
            async move { Client::join(server, &room, &tab).await.0 }
        });
        let mut tabs = futures_util::future::join_all(joins).await;
        for (i, tab) in tabs.iter_mut().enumerate() {
            let op = tab.create(&format!("s{i}"), "circle", 10.0 * i as f64, 10.0).await;
            tab.confirmed(op).await;
        }
        let (_, now) = get_json(a.addr, &format!("/api/rooms/{room}")).await;
        assert_eq!((now["seq"].clone(), now["owner"]["epoch"].clone()), (json!(8), json!(1)), "one owner: {now}");
    }
    let relayed = metric(a.addr, "sketchboard_sockets_forwarded_total").await
        + metric(b.addr, "sketchboard_sockets_forwarded_total").await;
    assert_eq!(relayed, 16.0, "the writers at the node that did not get the room were relayed");
}

/// Says hello to the room at `addr` as `client` (its page served by `addr`),
/// holding the board at `at` (epoch, seq), if given.
pub(crate) async fn hello_at(
    addr: &str,
    room: &str,
    client: &str,
    at: Option<(u64, u64)>,
) -> (Client, serde_json::Value) {
    let origin = format!("http://{addr}");
    let ws = try_connect_with(&format!("ws://{addr}/ws/{room}"), &[("Origin", &origin)]).await.expect("connects");
    let mut c = Client::wrap(ws);
    let mut hello = json!({"type": "hello", "version": PROTOCOL_VERSION, "client": client});
    if let Some((epoch, since)) = at {
        hello["epoch"] = json!(epoch);
        hello["since"] = json!(since);
    }
    c.send_json(&hello).await;
    let answer = c.recv_event().await;
    let answer = c.gather_board(answer).await;
    (c, answer)
}

/// Whether every thread of process `pid` is stopped (a signal stops them
/// soon after `kill` returns, not at once).
pub(crate) fn all_stopped(pid: u32) -> bool {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return false };
    threads.filter_map(Result::ok).all(|t| {
        let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
        // The state follows the command name, which is in parentheses.
        stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('T'))
    })
}

pub(crate) fn kill(signal: &str, pid: u32) {
    let done = std::process::Command::new("kill").args([signal, &pid.to_string()]).status().expect("kill runs");
    assert!(done.success(), "kill {signal} {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_owner_wakes_fenced_and_loses_nothing_acknowledged() {
    let rd = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(rd.path());
    paused_owner(&redis.url, None, |key| redis.cli(&["EXISTS", key]) == "1").await;
}

/// The same on the whole deployment: a Redis Cluster, the history in PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_owner_on_a_cluster_with_history_wakes_fenced_and_loses_nothing() {
    let rd = tempfile::tempdir().unwrap();
    let (cluster, pg) = (RedisCluster::start(rd.path()), PgServer::start(rd.path()));
    paused_owner(&cluster.url, Some(&pg.url), |key| cluster.primary_of(key).cli(&["EXISTS", key]) == "1").await;
}

/// An owner process SIGSTOPped past its lease with a change unread in its
/// socket, on the Redis at `url` (history in `history`, if given); `exists`
/// says whether a key lives.
async fn paused_owner(url: &str, history: Option<&str>, exists: impl Fn(&str) -> bool) {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let db_a = da.path().join("a.db");
    let mut args = vec!["--redis-url", url, "--lease-ms", "600"];
    if let Some(history) = history {
        args.extend(["--history-url", history, "--hot-tail", "1"]);
    }
    let (owner, ws_url) = start_server_with(&db_a, &args).await;
    let a = crate::crash::addr_of(&ws_url);
    let a_addr = a.to_string();
    let pid = owner.id().expect("a process id");
    let (url_b, history_b) = (url.to_owned(), history.map(str::to_owned));
    let b = TestServer::start_with(&db, move |c| {
        c.redis_url = Some(url_b);
        c.history_url = history_b;
        c.hot_tail = 1;
    })
    .await;

    let (mut alice, welcome) = hello_at(&a_addr, "paused", "alice", None).await;
    let op = alice.create("s", "circle", 10.0, 10.0).await;
    alice.confirmed(op).await;
    let epoch = welcome["epoch"].as_u64().unwrap_or(0);

    // The owner hangs past its lease, with alice's next change unread in its socket.
    kill("-STOP", pid);
    eventually("every thread of the owner stops", Duration::from_millis(10), || async {
        all_stopped(pid).then_some(())
    })
    .await;
    let moved_op = alice.move_to("s", 50.0, 50.0).await;
    let lease = "sb:{paused}:lease";
    let lapsed = || async { (!exists(lease)).then_some(()) };
    eventually("the paused owner's lease runs out", Duration::from_millis(50), lapsed).await;
    // Bob, on node b, finds the room free: b owns it now, under a new epoch.
    let (mut bob, answer) = Client::join(&b, "paused", "bob").await;
    assert_eq!(answer["seq"], 1, "b loaded what the owner recorded: {answer}");
    let op = bob.create("t", "rectangle", 300.0, 300.0).await;
    assert_eq!(bob.confirmed(op).await["seq"], 2);

    // The old owner wakes: fenced, it records nothing more and closes alice (4000).
    kill("-CONT", pid);
    let close = alice.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 4000, "{close:?}");
    assert_eq!(metric(a, "sketchboard_leases_lost_total").await, 1.0);
    // Alice resumes through the old owner's address, relayed to b, and sends
    // her unconfirmed change again; it lands once.
    let (mut alice, answer) = hello_at(&a_addr, "paused", "alice", Some((epoch, 1))).await;
    assert_eq!(answer["last_op"], 1, "her move was never recorded: {answer}");
    alice
        .send_json(
            &json!({"type": "change", "op": moved_op, "change": {"op": "move", "id": "s", "x": 50.0, "y": 50.0}}),
        )
        .await;
    loop {
        let msg = alice.recv_event().await;
        if msg["op"] == moved_op {
            assert_eq!(msg["seq"], 3);
            break;
        }
    }
    let store = match history {
        Some(history) => {
            let reader = Node { name: "reader".into(), address: "http://reader.invalid".into() };
            redis_store_archived(url, reader, Duration::from_secs(5), history, 1).await.unwrap()
        }
        None => redis_store(url).await.unwrap(),
    };
    let log = whole_log(&store, &RoomName::parse("paused").unwrap()).await;
    let by: Vec<(&str, u64)> = log.iter().map(|e| (e.client.as_str(), e.op)).collect();
    assert_eq!(by, [("alice", 1), ("bob", 1), ("alice", moved_op)], "every acknowledged change, once");
}
