//! Presence through real sockets: names, pointers and selections reach the
//! others with the sender's identity stamped by the server, are never stored
//! or numbered, a person with two tabs is one person, and a hostile or
//! flooding client can neither spoof anyone nor crowd out changes.

use serde_json::{Value, json};

use crate::common::{Client, TestServer, is_presence};

/// Joins as tab `client` of person `person`.
pub(crate) async fn join_as(server: &TestServer, room: &str, client: &str, person: &str) -> Client {
    let mut c = Client::wrap(Client::raw(server, room).await);
    let hello = json!({"type": "hello", "version": sketchboard_core::protocol::PROTOCOL_VERSION,
        "client": client, "person": person});
    c.send_json(&hello).await;
    let welcome = c.recv_type("welcome").await;
    c.gather_board(welcome).await;
    c
}

/// Reads until a message of type `ty` that passes `test`.
pub(crate) async fn presence_until(c: &mut Client, ty: &str, test: impl Fn(&Value) -> bool) -> Value {
    loop {
        let msg = c.recv().await;
        if msg["type"] == ty && test(&msg) {
            return msg;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_reaches_the_others_unnumbered_and_unstored() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let mut alice = join_as(&server, "lounge", "alice-tab", "alice-person").await;
    let you = presence_until(&mut alice, "you", |_| true).await;
    let mut bob = join_as(&server, "lounge", "bob-tab", "bob-person").await;

    alice.send_json(&json!({"type": "name", "name": "  Alice <b>A</b> "})).await;
    alice.send_json(&json!({"type": "pointer", "at": [120.5, 80]})).await;
    alice.send_json(&json!({"type": "selection", "ids": ["s1", "s2"]})).await;
    let named = presence_until(&mut bob, "person", |m| m["name"] != "").await;
    assert_eq!((&named["id"], &named["name"]), (&you["person"], &json!("Alice <b>A</b>")), "trimmed, as text");
    let pointer = presence_until(&mut bob, "pointer", |_| true).await;
    assert_eq!((&pointer["person"], &pointer["at"]), (&you["person"], &json!([120.5, 80.0])));
    assert!(pointer.get("seq").is_none(), "presence has no seq: {pointer}");
    let selection = presence_until(&mut bob, "selection", |_| true).await;
    assert_eq!(selection["ids"], json!(["s1", "s2"]));
    assert_eq!(selection["tab"], pointer["tab"]);

    // Presence took no place in the room's order: the first change is seq 1.
    let op = alice.create("s1", "circle", 10.0, 10.0).await;
    let mine = alice.confirmed(op).await;
    assert_eq!((&mine["seq"], &mine["by"]), (&json!(1), &Value::Null), "the author's copy has its op instead");
    // The others' copy says whose it was (by person number, for "Alice added a…").
    let theirs = bob.recv_event().await;
    assert_eq!((&theirs["seq"], &theirs["by"]), (&json!(1), &you["person"]), "{theirs}");

    // A late joiner is told the present at once.
    let mut carol = join_as(&server, "lounge", "carol-tab", "carol-person").await;
    let seen = presence_until(&mut carol, "pointer", |_| true).await;
    assert_eq!(seen["at"], json!([120.5, 80.0]));

    // Leaving takes the pointer away at once.
    drop(alice);
    let (mut tab_left, mut person_left) = (false, false);
    while !(tab_left && person_left) {
        let msg = bob.recv().await;
        tab_left |= msg["type"] == "tab_left" && msg["tab"] == pointer["tab"];
        person_left |= msg["type"] == "person_left" && msg["id"] == you["person"];
    }
    drop((bob, carol));

    // Restarted, the room remembers its one change and nobody's presence.
    server.stop().await;
    let server = TestServer::start(&dir).await;
    let log = crate::common::stored_log(&dir.path().join("board.db"), "lounge");
    assert_eq!(log.len(), 1, "only the change was stored");
    let mut dave = join_as(&server, "lounge", "dave-tab", "dave-person").await;
    let me = presence_until(&mut dave, "you", |_| true).await;
    let mine = presence_until(&mut dave, "person", |_| true).await;
    assert_eq!(mine["id"], me["person"], "the only person here is dave");
    let op = dave.create("s2", "rectangle", 50.0, 50.0).await;
    loop {
        let msg = dave.recv().await;
        assert!(msg["type"] != "pointer" && msg["type"] != "selection", "no presence survived: {msg}");
        assert!(msg["type"] != "person" || msg["id"] == me["person"], "nobody else: {msg}");
        if msg["op"] == op {
            break;
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_of_one_person_are_one_person() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let mut bob = join_as(&server, "two-tabs", "bob-tab", "bob").await;
    let first = join_as(&server, "two-tabs", "ann-tab-1", "ann").await;
    let mut second = join_as(&server, "two-tabs", "ann-tab-2", "ann").await;
    let ann = presence_until(&mut second, "you", |_| true).await["person"].clone();
    second.send_json(&json!({"type": "name", "name": "Ann"})).await;
    let named = presence_until(&mut bob, "person", |m| m["name"] == "Ann").await;
    assert_eq!(named["id"], ann, "both tabs are the one person");

    drop(first);
    presence_until(&mut bob, "tab_left", |_| true).await;
    // Ann is still here (her other tab is): proven by her next pointer arriving as hers.
    second.send_json(&json!({"type": "pointer", "at": [1, 2]})).await;
    let msg = loop {
        let msg = bob.recv().await;
        assert_ne!(msg["type"], "person_left", "one tab left, not the person");
        if msg["type"] == "pointer" {
            break msg;
        }
    };
    assert_eq!(msg["person"], ann);
    drop(second);
    presence_until(&mut bob, "person_left", |m| m["id"] == ann).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_or_spoofed_presence_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let mut alice = join_as(&server, "spoof", "alice-tab", "alice").await;
    let alice_id = presence_until(&mut alice, "you", |_| true).await["person"].clone();
    alice.send_json(&json!({"type": "name", "name": "Alice"})).await;
    let mut mallory = join_as(&server, "spoof", "mallory-tab", "mallory").await;
    presence_until(&mut mallory, "person", |m| m["name"] == "Alice").await;

    let long = "m".repeat(33);
    let selection: Vec<String> = (0..501).map(|i| format!("s{i}")).collect();
    for bad in [
        json!({"type": "name", "name": ""}),
        json!({"type": "name", "name": "   "}),
        json!({"type": "name", "name": long}),
        json!({"type": "name", "name": "Alice", "person": alice_id}),
        json!({"type": "pointer", "at": [1, 1], "person": alice_id}),
        json!({"type": "pointer", "at": [1, 1], "tab": 1}),
        json!({"type": "pointer", "at": [-5, 1]}),
        json!({"type": "pointer", "at": [1, 2, 3]}),
        json!({"type": "selection", "ids": selection}),
        json!({"type": "person", "id": alice_id, "name": "Mallory"}),
    ] {
        mallory.send_json(&bad).await;
        let answer = mallory.recv_event().await;
        assert_eq!((&answer["type"], &answer["code"]), (&json!("error"), &json!("bad_message")), "{bad} → {answer}");
    }
    // The connection is still good, and Alice is still Alice to everyone.
    mallory.assert_nothing_pending("after-junk").await;
    mallory.send_json(&json!({"type": "name", "name": "Alice"})).await;
    mallory.send_json(&json!({"type": "pointer", "at": [3, 4]})).await;
    let copy = presence_until(&mut alice, "person", |m| m["id"] != alice_id && m["name"] == "Alice").await;
    let pointer = presence_until(&mut alice, "pointer", |_| true).await;
    assert_eq!(pointer["person"], copy["id"], "a look-alike name, but never Alice's id");
    server.stop().await;
}

/// Names that would show as something they are not (reordered by a
/// right-to-left override, invisible, two lines, a tower of accents) are
/// refused with the reason, and nobody sees them; a decomposed name is shown
/// in NFC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_lie_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let mut liar = join_as(&server, "names", "liar-tab", "liar").await;
    let mut watcher = join_as(&server, "names", "watcher-tab", "watcher").await;
    let liar_id = presence_until(&mut liar, "you", |_| true).await["person"].clone();
    let tower = format!("a{}", "\u{0301}".repeat(32));
    for (name, why) in [
        ("Bob \u{202E}gnp.exe", "bidirectional"),
        ("\u{2067}Eve", "bidirectional"),
        ("\u{200B}", "invisible"),
        ("\u{FEFF}", "invisible"),
        ("one\u{2028}two", "one line"),
        (tower.as_str(), "combining marks"),
    ] {
        liar.send_json(&json!({"type": "name", "name": name})).await;
        let answer = liar.recv_event().await;
        assert_eq!((&answer["type"], &answer["code"]), (&json!("error"), &json!("bad_message")), "{name:?} → {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{name:?}: the error says why: {message}");
    }
    liar.send_json(&json!({"type": "name", "name": "Zoe\u{0308}"})).await;
    let named = presence_until(&mut watcher, "person", |m| m["id"] == liar_id && m["name"] != "").await;
    assert_eq!(named["name"], "Zo\u{00EB}", "the first name anyone saw is the honest one, in NFC");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_presence_is_thinned_and_never_delays_or_drops_changes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let mut alice = join_as(&server, "flood", "alice-tab", "alice").await;
    // Bob does not read while Alice floods.
    let mut bob = join_as(&server, "flood", "bob-tab", "bob").await;
    let sent = 400;
    alice.create("first", "circle", 10.0, 10.0).await;
    for i in 0..sent {
        alice.send_json(&json!({"type": "pointer", "at": [f64::from(i), 5.0]})).await;
    }
    let last = alice.create("last", "circle", 20.0, 10.0).await;
    alice.confirmed(last).await;

    // Bob reads on: both changes, in order, with no resync; the pointer ends
    // where Alice left it; and far fewer pointer messages than she sent.
    let (mut seqs, mut pointers, mut at) = (Vec::new(), 0, Value::Null);
    while seqs.len() < 2 || at != json!([f64::from(sent - 1), 5.0]) {
        let msg = bob.recv().await;
        match msg["type"].as_str() {
            Some("applied") => seqs.push(msg["seq"].clone()),
            Some("pointer") => {
                pointers += 1;
                at = msg["at"].clone();
            }
            _ => assert!(is_presence(&msg), "{msg}"),
        }
    }
    assert_eq!(seqs, [json!(1), json!(2)]);
    assert!(pointers < sent / 2, "{pointers} of {sent} pointer updates passed on");
    server.stop().await;
}

/// Presence counts by the byte: a tab sending the largest selection allowed
/// (500 ids of 64 characters, about 33 KB) again and again is read at the
/// presence byte rate and told so once, well before it reaches the message
/// rate; the others' changes reach everyone meanwhile, and its own change
/// after the flood goes in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_large_selections_is_read_by_the_byte_and_told() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let mut alice = join_as(&server, "bytes", "alice-tab", "alice").await;
    let mut bob = join_as(&server, "bytes", "bob-tab", "bob").await;
    let mut carol = join_as(&server, "bytes", "carol-tab", "carol").await;
    let ids: Vec<String> = (0..sketchboard_core::presence::MAX_SHOWN_SELECTION).map(|i| format!("{i:064}")).collect();
    let selection = json!({"type": "selection", "ids": ids}).to_string();
    assert!(selection.len() > 32_000, "{}", selection.len());
    // 12 of them: 400 KB, past what one tab may send at once (256 KiB), and
    // far below the 1,000 messages it may.
    for _ in 0..12 {
        alice.send_text(selection.clone()).await;
    }
    let op = bob.create("b", "circle", 10.0, 10.0).await;
    bob.confirmed(op).await;
    let seen = presence_until(&mut carol, "applied", |_| true).await;
    assert_eq!(seen["change"]["shape"]["id"], "b");
    let told = presence_until(&mut alice, "error", |m| m["code"] == "rate_limited").await;
    assert!(told["message"].as_str().is_some_and(|m| m.contains("presence")), "{told}");
    // Its own change waits its turn behind the flood (a few seconds at 64 KiB a second), then goes in.
    let mine = alice.create("a", "circle", 200.0, 10.0).await;
    alice.confirmed(mine).await;
    server.stop().await;
}
