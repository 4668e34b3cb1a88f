//! Presence across nodes: tabs of one room on two nodes sharing a real
//! `redis-server` see each other's people, names, pointers and selections,
//! a person has one number on every node, a late joiner on either node is
//! told the present, leaving is seen everywhere, and a change says who made
//! it on every node.

use serde_json::json;

use crate::common::redis::{RedisServer, node};
use crate::presence::{join_as, presence_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_and_pointers_cross_nodes() {
    let (rd, da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let redis = RedisServer::start(rd.path());
    let (a, b) = (node(&da, &redis).await, node(&db, &redis).await);

    let mut alice = join_as(&a, "meet", "alice-tab", "alice").await;
    let alice_is = presence_until(&mut alice, "you", |_| true).await["person"].clone();
    let mut bob = join_as(&b, "meet", "bob-tab", "bob").await;
    let bob_is = presence_until(&mut bob, "you", |_| true).await["person"].clone();
    assert_ne!(alice_is, bob_is, "one numbering for the room, across nodes");

    // Each is told of the other, across the nodes.
    presence_until(&mut bob, "person", |m| m["id"] == alice_is).await;
    presence_until(&mut alice, "person", |m| m["id"] == bob_is).await;
    alice.send_json(&json!({"type": "name", "name": "Alice"})).await;
    alice.send_json(&json!({"type": "pointer", "at": [120.5, 80]})).await;
    let named = presence_until(&mut bob, "person", |m| m["id"] == alice_is && m["name"] == "Alice").await;
    assert_ne!(named["viewer"], json!(true), "an editor, as on its own node");
    let pointer = presence_until(&mut bob, "pointer", |m| m["person"] == alice_is).await;
    assert_eq!(pointer["at"], json!([120.5, 80.0]));
    // A change made on A tells B's members who made it, as on one node.
    let op = alice.create("s1", "circle", 10.0, 10.0).await;
    alice.confirmed(op).await;
    let theirs = presence_until(&mut bob, "applied", |_| true).await;
    assert_eq!((&theirs["seq"], &theirs["by"]), (&json!(1), &alice_is), "{theirs}");
    bob.send_json(&json!({"type": "selection", "ids": ["s1"]})).await;
    let selection = presence_until(&mut alice, "selection", |m| m["person"] == bob_is).await;
    assert_eq!(selection["ids"], json!(["s1"]));

    // Alice's second tab, on the other node, is the same person there too.
    let mut alice_too = join_as(&b, "meet", "alice-tab-2", "alice").await;
    assert_eq!(presence_until(&mut alice_too, "you", |_| true).await["person"], alice_is);
    // A late joiner on either node is told what the others are doing.
    let mut carol = join_as(&b, "meet", "carol-tab", "carol").await;
    let seen = presence_until(&mut carol, "pointer", |m| m["person"] == alice_is).await;
    assert_eq!((&seen["tab"], &seen["at"]), (&pointer["tab"], &json!([120.5, 80.0])));
    let mut dave = join_as(&a, "meet", "dave-tab", "dave").await;
    presence_until(&mut dave, "selection", |m| m["person"] == bob_is && m["ids"] == json!(["s1"])).await;

    // Alice's tab on A leaves: its pointer goes on B; Alice herself goes with her last tab.
    drop(alice);
    presence_until(&mut bob, "tab_left", |m| m["tab"] == pointer["tab"]).await;
    drop(alice_too);
    presence_until(&mut dave, "person_left", |m| m["id"] == alice_is).await;
}
