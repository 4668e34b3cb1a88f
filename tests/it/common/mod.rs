//! Shared by the integration tests: a real server on an ephemeral port with a
//! temporary SQLite file, real WebSocket clients, and a bare HTTP GET.

pub(crate) mod postgres;
pub(crate) mod redis;
pub(crate) mod tab;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sketchboard::server::{Config, Running};
use sketchboard_core::model::Change;
use sketchboard_core::protocol::PROTOCOL_VERSION;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for something that should happen before failing.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// Checks `check` every `every` until it gives `Some`, and returns that;
/// fails, saying `what` should have happened, once `PATIENCE` has passed.
/// The one way these tests wait for a condition (never a sleep for luck).
pub(crate) async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: impl std::fmt::Display,
    every: Duration,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(done) = check().await {
            return done;
        }
        assert!(tokio::time::Instant::now() < deadline, "within {PATIENCE:?}: {what}");
        tokio::time::sleep(every).await;
    }
}

/// Waits until the server at `addr` answers its health check.
pub(crate) async fn healthy(addr: SocketAddr) {
    let ok = || async move { (http_get(addr, "/healthz").await.0 == 200).then_some(()) };
    eventually(format!("{addr} answers its health check"), Duration::from_millis(50), ok).await;
}

pub(crate) struct TestServer {
    pub running: Option<Running>,
    pub addr: SocketAddr,
    pub db_url: String,
}

impl TestServer {
    /// A server on a fresh database in `dir`.
    pub(crate) async fn start(dir: &tempfile::TempDir) -> TestServer {
        Self::start_with(dir, |_| {}).await
    }

    pub(crate) async fn start_with(dir: &tempfile::TempDir, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let db_url = format!("sqlite://{}", dir.path().join("board.db").display());
        let mut config = Config::for_database("127.0.0.1:0".parse().unwrap(), db_url.clone());
        tweak(&mut config);
        let options =
            leptos::config::LeptosOptions::builder().output_name("sketchboard").site_root("target/site").build();
        let running = sketchboard::site::serve(config, options).await.expect("server starts");
        TestServer { addr: running.addr, running: Some(running), db_url }
    }

    pub(crate) async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("server stops cleanly");
        }
    }

    /// Waits until exactly `n` rooms are loaded.
    pub(crate) async fn rooms_loaded(&self, n: usize) {
        let mut loaded = self.running.as_ref().expect("the server runs").rooms_loaded();
        let reached = matches!(tokio::time::timeout(PATIENCE, loaded.wait_for(|&loaded| loaded == n)).await, Ok(Ok(_)));
        assert!(reached, "{n} rooms loaded within {PATIENCE:?}, not {}", *loaded.borrow());
    }

    pub(crate) fn ws_url(&self, room: &str) -> String {
        format!("ws://{}/ws/{room}", self.addr)
    }
}

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket client speaking the protocol, as a browser tab would.
pub(crate) struct Client {
    pub ws: Socket,
    next_op: u64,
}

impl Client {
    /// Connects and says hello; returns the client and the welcome message,
    /// with the board it announced (the `board` parts after it) gathered
    /// into its `shapes`.
    pub(crate) async fn join(server: &TestServer, room: &str, client_id: &str) -> (Client, Value) {
        let ws = Self::raw(server, room).await;
        let mut c = Client::wrap(ws);
        c.send_json(&json!({"type": "hello", "version": PROTOCOL_VERSION, "client": client_id})).await;
        let welcome = c.recv_type("welcome").await;
        let welcome = c.gather_board(welcome).await;
        (c, welcome)
    }

    /// Connects and says hello; returns the client and the server's answer,
    /// whatever it is (a welcome, its board gathered in, or an error before
    /// the server closes).
    pub(crate) async fn hello(server: &TestServer, room: &str, client_id: &str) -> (Client, Value) {
        let mut c = Client::wrap(Self::raw(server, room).await);
        c.send_json(&json!({"type": "hello", "version": PROTOCOL_VERSION, "client": client_id})).await;
        let answer = c.recv_event().await;
        let answer = c.gather_board(answer).await;
        (c, answer)
    }

    /// For a welcome: reads the `board` parts that follow it, checks they come
    /// in order for the welcome's `seq`, and puts their shapes into the
    /// welcome as `shapes`. Anything else is returned as it is.
    pub(crate) async fn gather_board(&mut self, mut answer: Value) -> Value {
        if answer["type"] != "welcome" {
            return answer;
        }
        let mut shapes = Vec::new();
        for part in 0..answer["parts"].as_u64().expect("a welcome says how many parts") {
            let board = self.recv_event().await;
            assert_eq!(
                (&board["type"], &board["seq"], &board["part"]),
                (&json!("board"), &answer["seq"], &json!(part))
            );
            shapes.extend(board["shapes"].as_array().expect("shapes").iter().cloned());
        }
        answer["shapes"] = Value::Array(shapes);
        answer
    }

    /// Connects as a client that holds the room's board as of `since` in
    /// incarnation `epoch`; returns the client and the answer (`catch_up` or `welcome`).
    pub(crate) async fn rejoin(
        server: &TestServer,
        room: &str,
        client_id: &str,
        epoch: u64,
        since: u64,
    ) -> (Client, Value) {
        let ws = Self::raw(server, room).await;
        let mut c = Client::wrap(ws);
        let hello =
            json!({"type": "hello", "version": PROTOCOL_VERSION, "client": client_id, "since": since, "epoch": epoch});
        c.send_json(&hello).await;
        let answer = c.recv_event().await;
        let answer = c.gather_board(answer).await;
        assert!(answer["type"] == "catch_up" || answer["type"] == "welcome", "expected an answer to hello: {answer}");
        (c, answer)
    }

    /// Continues numbering ops after `last`: for a client that reconnects.
    pub(crate) fn ops_after(mut self, last: u64) -> Client {
        self.next_op = last + 1;
        self
    }

    /// Wraps a socket that has not said hello (yet, or ever).
    pub(crate) fn wrap(ws: Socket) -> Client {
        Client { ws, next_op: 1 }
    }

    /// A connected socket that has not said hello yet.
    pub(crate) async fn raw(server: &TestServer, room: &str) -> Socket {
        let (ws, _) = tokio_tungstenite::connect_async(server.ws_url(room)).await.expect("websocket connects");
        ws
    }

    pub(crate) async fn send_text(&mut self, text: impl Into<String>) {
        self.ws.send(Message::text(text.into())).await.expect("send");
    }

    pub(crate) async fn send_json(&mut self, v: &Value) {
        self.send_text(v.to_string()).await;
    }

    /// Sends a change; returns its op number.
    pub(crate) async fn change(&mut self, change: Value) -> u64 {
        let op = self.next_op;
        self.next_op += 1;
        self.send_json(&json!({"type": "change", "op": op, "change": change})).await;
        op
    }

    pub(crate) async fn create(&mut self, id: &str, kind: &str, x: f64, y: f64) -> u64 {
        self.change(json!({"op": "create", "shape": {"id": id, "kind": kind, "x": x, "y": y}})).await
    }

    pub(crate) async fn move_to(&mut self, id: &str, x: f64, y: f64) -> u64 {
        self.change(json!({"op": "move", "id": id, "x": x, "y": y})).await
    }

    pub(crate) async fn delete(&mut self, id: &str) -> u64 {
        self.change(json!({"op": "delete", "id": id})).await
    }

    /// The next JSON message, or a failure after `PATIENCE`.
    pub(crate) async fn recv(&mut self) -> Value {
        match self.next_frame().await {
            Message::Text(t) => serde_json::from_str(&t).expect("server sends JSON"),
            other => panic!("expected a text message, got {other:?}"),
        }
    }

    pub(crate) async fn next_frame(&mut self) -> Message {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("a message within the patience window")
                .expect("the socket is open")
                .expect("a valid frame");
            if !matches!(frame, Message::Ping(_) | Message::Pong(_)) {
                return frame;
            }
        }
    }

    /// The next message of type `ty`, skipping presence.
    pub(crate) async fn recv_type(&mut self, ty: &str) -> Value {
        loop {
            let msg = self.recv().await;
            if msg["type"] == ty {
                return msg;
            }
            assert!(is_presence(&msg), "expected {ty} but got {msg}");
        }
    }

    /// Reads until a presence update says the room holds `n` members.
    pub(crate) async fn members_become(&mut self, n: u64) {
        loop {
            let msg = self.recv().await;
            if msg["type"] == "presence" && msg["members"] == n {
                return;
            }
        }
    }

    /// Reads until the confirmation of our change `op`; returns it.
    pub(crate) async fn confirmed(&mut self, op: u64) -> Value {
        loop {
            let msg = self.recv_event().await;
            if msg["type"] == "applied" && msg["op"] == op {
                return msg;
            }
            assert_eq!(msg["type"], "applied", "expected the confirmation of op {op}, got {msg}");
        }
    }

    /// The next message that is not presence.
    pub(crate) async fn recv_event(&mut self) -> Value {
        loop {
            let msg = self.recv().await;
            if !is_presence(&msg) {
                return msg;
            }
        }
    }

    /// Waits for the server to close the connection; returns its close frame.
    pub(crate) async fn closed(&mut self) -> Option<CloseFrame> {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.ws.next()).await.expect("closed within patience");
            match frame {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Proves that nothing but presence updates arrived: sends a change of
    /// its own and checks that its confirmation is the very next event.
    pub(crate) async fn assert_nothing_pending(&mut self, fresh_id: &str) {
        let op = self.create(fresh_id, "circle", 0.0, 0.0).await;
        let next = self.recv_event().await;
        assert_eq!(next["type"], "applied", "unexpected message before our own confirmation: {next}");
        assert_eq!(next["op"], op, "the next event is our own change, confirmed");
    }
}

/// Whether a server message is presence (the member count, who is here,
/// pointers, selections) rather than part of the room's stream of changes.
pub(crate) fn is_presence(msg: &Value) -> bool {
    let presence = ["presence", "you", "person", "person_left", "pointer", "selection", "tab_left"];
    msg["type"].as_str().is_some_and(|t| presence.contains(&t))
}

/// Opens a WebSocket with extra request headers; returns the HTTP status of a refusal.
pub(crate) async fn try_connect_with(url: &str, headers: &[(&str, &str)]) -> Result<Socket, u16> {
    let mut req = url.into_client_request().expect("valid request");
    for (k, v) in headers {
        let name = axum::http::HeaderName::from_bytes(k.as_bytes()).expect("header name");
        req.headers_mut().insert(name, v.parse().expect("header value"));
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("unexpected connection error: {e}"),
    }
}

/// A plain HTTP/1.1 GET: returns the status code, headers and body.
pub(crate) async fn http_get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    http_get_as(addr, path, &addr.to_string(), "").await
}

/// A GET for `host`, with further header lines (each ending in CRLF).
pub(crate) async fn http_get_as(addr: SocketAddr, path: &str, host: &str, headers: &str) -> (u16, String, String) {
    let (status, head, body) = http_get_bytes(addr, path, host, headers).await;
    (status, head, String::from_utf8_lossy(&body).into_owned())
}

/// A GET whose body is bytes (an image): the status code, headers and body.
pub(crate) async fn http_get_bytes(addr: SocketAddr, path: &str, host: &str, headers: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Connection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut buf)).await.expect("response in time").expect("read");
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(buf.len());
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let body = buf.get(split + 4..).unwrap_or_default().to_vec();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status line");
    (status, head, body)
}

/// A bodiless POST with further header lines (each ending in CRLF): the status code, headers and body.
pub(crate) async fn http_post(addr: SocketAddr, path: &str, headers: &str) -> (u16, String, String) {
    http_bodiless(addr, "POST", path, headers).await
}

/// A bodiless PUT, as `http_post`.
pub(crate) async fn http_put(addr: SocketAddr, path: &str, headers: &str) -> (u16, String, String) {
    http_bodiless(addr, "PUT", path, headers).await
}

/// A PUT answered with JSON: the status code and the parsed body (`Value::Null` if it is not JSON).
pub(crate) async fn put_json(addr: SocketAddr, path: &str) -> (u16, Value) {
    let (status, _, body) = http_put(addr, path, "").await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn http_bodiless(addr: SocketAddr, method: &str, path: &str, headers: &str) -> (u16, String, String) {
    http_with_body(addr, method, path, headers, "").await
}

/// A request with `body`: the status code, the head and the body of the answer.
pub(crate) async fn http_with_body(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let length = body.len();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {length}\r\nConnection: close\r\n\r\n{body}"
    );
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut buf)).await.expect("response in time").expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status line");
    (status, head.to_owned(), body.to_owned())
}

/// A GET of JSON: the status code and the parsed body (`Value::Null` if it is not JSON).
pub(crate) async fn get_json(addr: SocketAddr, path: &str) -> (u16, Value) {
    let (status, _, body) = http_get(addr, path).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// A tiny deterministic generator, so each tab's choices are reproducible.
pub(crate) struct Dice(pub u64);

impl Dice {
    pub(crate) fn roll(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The room's log as stored: seq → (client, op, change).
pub(crate) fn stored_log(db: &Path, room: &str) -> BTreeMap<u64, (String, u64, Change)> {
    let conn = rusqlite::Connection::open(db).expect("open the database");
    let mut stmt = conn.prepare("SELECT seq, client, op, change FROM changes WHERE room = ?1 ORDER BY seq").unwrap();
    let rows = stmt
        .query_map([room], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?))
        })
        .unwrap();
    rows.map(|r| {
        let (seq, client, op, change) = r.unwrap();
        (seq as u64, (client, op as u64, serde_json::from_str(&change).expect("stored change parses")))
    })
    .collect()
}

/// Every entry of `room`'s log, in order, as `store` has it (read a page at a time).
pub(crate) async fn whole_log(
    store: &sketchboard::server::testing::Store,
    room: &sketchboard_core::model::RoomName,
) -> Vec<sketchboard::server::testing::LogEntry> {
    let mut entries: Vec<sketchboard::server::testing::LogEntry> = Vec::new();
    loop {
        let after = entries.last().map_or(0, |e| e.seq);
        let page = store.read_log(room, after, 1000).await.expect("read the log");
        if page.is_empty() {
            return entries;
        }
        entries.extend(page);
    }
}

/// The samples of an OpenMetrics text: `name{labels}` → value.
pub(crate) fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// One sample of the server's `/metrics` (0 when it has none yet).
pub(crate) async fn metric(addr: SocketAddr, name: &str) -> f64 {
    let (_, _, body) = http_get(addr, "/metrics").await;
    samples(&body).get(name).copied().unwrap_or(0.0)
}
