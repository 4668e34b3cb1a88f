//! Sharing through real sockets and HTTP: a view-only connection sees the
//! room live and may point, but every change it sends is refused and changes
//! nothing; replacing the view-only link closes its viewers (4007) and the old
//! link stops working; private rooms are never listed.

use serde_json::{Value, json};

use crate::common::{Client, TestServer, http_get, http_post, http_put, try_connect_with};

/// A bodiless POST (with extra header lines); returns the status and body.
async fn post(server: &TestServer, path: &str, headers: &str) -> (u16, String) {
    post_or_put(server, "POST", path, headers).await
}

async fn post_or_put(server: &TestServer, method: &str, path: &str, headers: &str) -> (u16, String) {
    let (status, _, body) = match method {
        "PUT" => http_put(server.addr, path, headers).await,
        _ => http_post(server.addr, path, headers).await,
    };
    (status, body)
}

/// The path in a view-link answer.
pub(crate) fn path_of(body: &str) -> String {
    let start = body.find('{').expect("JSON in the body");
    let v: Value = serde_json::from_str(body[start..].trim_end_matches(|c: char| c != '}')).expect("JSON");
    v["path"].as_str().expect("a path").to_owned()
}

pub(crate) async fn viewer(server: &TestServer, path: &str, client: &str) -> (Client, Value) {
    let token = path.strip_prefix("/v/").expect("a /v/ link");
    let ws = try_connect_with(&format!("ws://{}/ws/v/{token}", server.addr), &[]).await.expect("the link opens");
    let mut c = Client::wrap(ws);
    c.send_json(&json!({"type": "hello", "version": sketchboard_core::protocol::PROTOCOL_VERSION, "client": client}))
        .await;
    let welcome = c.recv_type("welcome").await;
    let welcome = c.gather_board(welcome).await;
    (c, welcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_only_connection_sees_and_points_but_never_changes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&server, "shared", "alice").await;
    let op = alice.create("a", "circle", 10.0, 10.0).await;
    alice.confirmed(op).await;

    let (status, _, body) = http_get(server.addr, "/api/rooms/shared/view-link").await;
    assert_eq!(status, 404, "a GET makes no link: {body}");
    let (status, _) =
        post_or_put(&server, "PUT", "/api/rooms/shared/view-link", "Origin: http://evil.example\r\n").await;
    assert_eq!(status, 403, "another site's page may not make one");
    let (status, _, body) = http_put(server.addr, "/api/rooms/shared/view-link", "").await;
    assert_eq!(status, 200, "{body}");
    let link = path_of(&body);
    let (_, _, again) = http_put(server.addr, "/api/rooms/shared/view-link", "").await;
    assert_eq!(path_of(&again), link, "asking again gives the same link");
    let (_, _, read) = http_get(server.addr, "/api/rooms/shared/view-link").await;
    assert_eq!(path_of(&read), link, "and a GET tells it");
    assert!(!link.contains("shared"), "the link does not carry the room's name: {link}");

    let (mut eve, welcome) = viewer(&server, &link, "eve").await;
    assert_eq!(welcome["room"], "view-only", "the room's name (its edit link) is not told: {welcome}");
    assert_eq!(welcome["shapes"].as_array().map(Vec::len), Some(1));

    let attempts = [
        json!({"op": "create", "shape": {"id": "b", "kind": "circle", "x": 1, "y": 1}}),
        json!({"op": "move", "id": "a", "x": 500, "y": 500}),
        json!({"op": "delete", "id": "a"}),
        json!({"op": "color", "id": "a", "color": "red"}),
        json!({"op": "layer", "id": "a", "z": 9}),
        json!({"op": "batch", "changes": [{"op": "delete", "id": "a"}]}),
    ];
    for change in attempts {
        let op = eve.change(change.clone()).await;
        let answer = eve.recv_event().await;
        assert_eq!((&answer["code"], &answer["op"]), (&json!("read_only"), &json!(op)), "{change} → {answer}");
    }
    // A batch in parts too, refused once for the change.
    for part in 0..2 {
        let delete = json!([{"op": "delete", "id": "a"}]);
        eve.send_json(&json!({"type": "part", "op": 99, "part": part, "parts": 2, "changes": delete})).await;
    }
    let answer = eve.recv_event().await;
    assert_eq!((&answer["code"], &answer["op"]), (&json!("read_only"), &json!(99)), "{answer}");
    // It may point: Alice sees the viewer's pointer.
    eve.send_json(&json!({"type": "pointer", "at": [3, 4]})).await;
    loop {
        let msg = alice.recv().await;
        assert_ne!(msg["type"], "applied", "nothing the viewer sent was applied: {msg}");
        if msg["type"] == "pointer" {
            break;
        }
    }
    // It sees the room live.
    let op = alice.move_to("a", 300.0, 200.0).await;
    alice.confirmed(op).await;
    let live = eve.recv_event().await;
    assert_eq!((&live["type"], &live["seq"]), (&json!("applied"), &json!(2)), "{live}");
    // And the room is as Alice left it.
    let (_, carol) = Client::join(&server, "shared", "carol").await;
    assert_eq!((carol["seq"].clone(), carol["shapes"][0]["x"].clone()), (json!(2), json!(300.0)));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacing_the_view_link_closes_its_viewers_and_the_old_link_stops_working() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_alice, _) = Client::join(&server, "rotate", "alice").await;
    let (_, _, body) = http_put(server.addr, "/api/rooms/rotate/view-link", "").await;
    let old = path_of(&body);
    let (mut eve, _) = viewer(&server, &old, "eve").await;

    // Another site's page may not replace it.
    let (status, _) = post(&server, "/api/rooms/rotate/view-link", "Origin: http://evil.example\r\n").await;
    assert_eq!(status, 403);
    let (status, body) = post(&server, "/api/rooms/rotate/view-link", "").await;
    assert_eq!(status, 200, "{body}");
    let new = path_of(&body);
    assert_ne!(new, old);
    let frame = eve.closed().await.expect("a close frame");
    assert_eq!(u16::from(frame.code), sketchboard_core::protocol::close::VIEW_REVOKED);

    let token = old.trim_start_matches("/v/");
    let refused = try_connect_with(&format!("ws://{}/ws/v/{token}", server.addr), &[]).await;
    assert_eq!(refused.err(), Some(404), "the old link opens nothing");
    viewer(&server, &new, "eve2").await;
    // The pages too: the old link's page is a 404, the new one's a room that never names itself.
    assert_eq!(http_get(server.addr, &old).await.0, 404);
    let (status, _, page) = http_get(server.addr, &new).await;
    assert_eq!(status, 200);
    assert!(!page.contains("rotate"), "the view-only page names no room");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_rooms_are_unguessable_and_never_listed() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (status, head, _) = http_get(server.addr, "/new?private=1").await;
    assert!((300..400).contains(&status), "a redirect: {status}");
    let location = head.lines().find_map(|l| l.strip_prefix("location: ").or_else(|| l.strip_prefix("Location: ")));
    let name = location.and_then(|l| l.strip_prefix("/r/")).expect("to a room").trim().to_owned();
    assert_eq!(name.len(), 22, "132 random bits: {name}");
    let (_, other, _) = http_get(server.addr, "/new?private=1").await;
    assert!(!other.contains(&name), "each is new");

    // Used (a change stored) and occupied, it still is not listed; a public room is.
    let (mut alice, _) = Client::join(&server, &name, "alice").await;
    let op = alice.create("a", "circle", 10.0, 10.0).await;
    alice.confirmed(op).await;
    let (mut bob, _) = Client::join(&server, "public-one", "bob").await;
    let op = bob.create("a", "circle", 10.0, 10.0).await;
    bob.confirmed(op).await;
    let (_, _, lobby) = http_get(server.addr, "/").await;
    assert!(lobby.contains("public-one"), "the public room is listed");
    assert!(!lobby.contains(&name), "the private room is not");
    // Nor after a restart, from storage alone.
    drop((alice, bob));
    server.stop().await;
    let server = TestServer::start(&dir).await;
    let (_, _, lobby) = http_get(server.addr, "/").await;
    assert!(lobby.contains("public-one") && !lobby.contains(&name));
    server.stop().await;
}

/// Rows a script stores without ever drawing count as new rooms: a private
/// room made by `/new?private=1`, a view-only link asked for a room never
/// used. Past the address's allowance they are refused (429) and stored
/// nothing; a link for a room already stored costs nothing, and another
/// address is not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_stored_without_a_change_count_against_the_addresss_new_rooms() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| {
        c.rooms_created_per_hour = 5;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let (mut alice, _) = Client::join(&server, "kept", "alice").await;
    let op = alice.create("a", "circle", 10.0, 10.0).await;
    alice.confirmed(op).await; // 1 of 5: its first change stored it.
    for made in 2..=5 {
        let (status, _, _) = http_get(server.addr, "/new?private=1").await;
        assert!((300..400).contains(&status), "private room {made} of 5: {status}");
    }
    let (status, head, body) = http_get(server.addr, "/new?private=1").await;
    assert_eq!(status, 429, "the sixth: {body}");
    assert!(head.to_lowercase().contains("retry-after"), "{head}");
    assert!(body.contains("rooms in the last hour"), "it says why: {body}");
    let (status, _) = post_or_put(&server, "PUT", "/api/rooms/never-used/view-link", "").await;
    assert_eq!(status, 429, "a link for a room never used is a new row too");
    assert_eq!(http_get(server.addr, "/api/rooms/never-used/view-link").await.0, 404, "and nothing was stored");
    let (status, body) = post_or_put(&server, "PUT", "/api/rooms/kept/view-link", "").await;
    assert_eq!(status, 200, "a stored room's link is no new room: {body}");
    let elsewhere = "X-Forwarded-For: 198.51.100.7\r\n";
    let (status, _) = post_or_put(&server, "PUT", "/api/rooms/theirs/view-link", elsewhere).await;
    assert_eq!(status, 200, "another address has its own allowance");
    server.stop().await;
}

/// View-only links that open nothing are each a read of the store: one
/// address may try a few (a mistyped link), not thousands; past its allowance
/// it gets 429, without a read, on every route that takes a token, while
/// another address is not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_only_links_that_open_nothing_are_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let guess = |i: usize| format!("{i:0>22}");
    let mut misses = 0;
    let refused = loop {
        let (status, head, body) = http_get(server.addr, &format!("/api/v/{}", guess(misses))).await;
        if status != 404 {
            break (status, head, body);
        }
        misses += 1;
        assert!(misses <= 40, "still looking up after {misses} misses");
    };
    assert_eq!(refused.0, 429, "{refused:?}");
    assert!((20..=40).contains(&misses), "a few misses allowed first: {misses}");
    assert!(refused.1.to_lowercase().contains("retry-after") && refused.2.contains("view-only links"), "{refused:?}");
    for path in [format!("/v/{}.png", guess(1)), format!("/api/v/{}/changes", guess(2))] {
        assert_eq!(http_get(server.addr, &path).await.0, 429, "{path}");
    }
    let ws = try_connect_with(&format!("ws://{}/ws/v/{}", server.addr, guess(3)), &[]).await;
    assert_eq!(ws.err(), Some(429), "the view-only socket too");
    let elsewhere = "X-Forwarded-For: 198.51.100.7\r\n";
    let (status, _, _) =
        crate::common::http_get_as(server.addr, &format!("/api/v/{}", guess(4)), "127.0.0.1", elsewhere).await;
    assert_eq!(status, 404, "another address still looks up");
    server.stop().await;
}
