//! The server's edge under pressure: connections that never finish a
//! request, names the server is not, messages split into endless fragments,
//! frames that break the WebSocket protocol, pings by the thousand.

use std::time::Duration;

use futures_util::SinkExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};

use crate::common::{Client, PATIENCE, TestServer, http_get, http_get_as, try_connect_with};

/// Connections that send half a request and stop cannot keep anyone out:
/// past the cap, the one idle longest is closed to make room, and the health
/// check and a join go through while they are held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_cannot_keep_honest_clients_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| c.max_idle_connections = 20).await;
    let mut held = Vec::new();
    for _ in 0..200 {
        let mut tcp = TcpStream::connect(server.addr).await.unwrap();
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.unwrap();
        held.push(tcp);
    }
    let (status, _, body) = http_get(server.addr, "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    let (_honest, welcome) = Client::join(&server, "open-for-business", "honest").await;
    assert_eq!(welcome["type"], "welcome");
    // Most of the half-open ones were closed: reading them ends.
    let mut closed = 0;
    for tcp in &mut held {
        let mut byte = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(50), tcp.read(&mut byte)).await {
            closed += 1;
        }
    }
    assert!(closed >= 170, "only {closed} of 200 half-open connections were closed");
    server.stop().await;
}

/// A request's headers must arrive in time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_that_never_finish_time_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| c.header_timeout_secs = 1).await;
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(PATIENCE, tcp.read_to_end(&mut rest)).await;
    assert!(ended.is_ok(), "the server closed the connection");
    server.stop().await;
}

/// A request's head may be as large as a browser's and no larger: one
/// unfinished header line of 64 KiB is refused (431) as it arrives, rather than
/// held in the server's memory until the header deadline (each of 200 such
/// connections cost 358 KiB for 10 s). Headers of the size browsers send pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_larger_than_any_browser_sends_is_refused_as_it_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: ").await.unwrap();
    // Written while the server reads; it may close before taking it all.
    let _ = tcp.write_all(&vec![b'a'; 64 * 1024]).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(3), tcp.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "answered long before the 10 s header deadline");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:?}");
    // A browser's head, cookies and all, is well within it.
    let cookie = format!("Cookie: {}\r\n", "k=v; ".repeat(1000));
    let (status, _, _) = http_get_as(server.addr, "/healthz", "127.0.0.1", &cookie).await;
    assert_eq!(status, 200);
    server.stop().await;
}

/// DNS rebinding: a page on a name that resolves to the server sends that
/// name as Host and Origin. Without `--public-origin` the server answers to
/// addresses only; with it, to exactly the names given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebound_name_is_refused_and_a_configured_one_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let port = server.addr.port();
    let evil = format!("evil.example:{port}");
    let origin = format!("http://{evil}");
    let ws = try_connect_with(&server.ws_url("r"), &[("Host", &evil), ("Origin", &origin)]).await;
    assert_eq!(ws.err(), Some(403), "a WebSocket for a rebound name");
    assert_eq!(http_get_as(server.addr, "/", &evil, "").await.0, 403, "a page for a rebound name");
    assert_eq!(http_get_as(server.addr, "/", &format!("localhost:{port}"), "").await.0, 200);
    let ours = format!("http://127.0.0.1:{port}");
    assert!(try_connect_with(&server.ws_url("r"), &[("Origin", &ours)]).await.is_ok(), "the page's own origin");
    server.stop().await;

    // Behind a name: that name, and only it.
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| c.public_origin = vec!["http://board.example".into()]).await;
    let named = [("Host", "board.example"), ("Origin", "http://board.example")];
    assert!(try_connect_with(&server.ws_url("r"), &named).await.is_ok(), "the configured name");
    assert_eq!(http_get_as(server.addr, "/", "board.example", "").await.0, 200);
    assert_eq!(http_get(server.addr, "/").await.0, 403, "not the bare address any more");
    assert_eq!(http_get(server.addr, "/healthz").await.0, 200, "but health checks come by address");
    server.stop().await;
}

/// A message split into fragments is buffered only up to the message limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fragments_are_buffered_only_up_to_the_message_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut c, _) = Client::join(&server, "frag", "f").await;
    let piece = vec![b'a'; 8 * 1024];
    c.ws.send(Message::Frame(Frame::message(piece.clone(), OpCode::Data(Data::Text), false))).await.unwrap();
    for _ in 0..15 {
        if c.ws.send(Message::Frame(Frame::message(piece.clone(), OpCode::Data(Data::Continue), false))).await.is_err()
        {
            break;
        }
    }
    let refusal = c.recv_event().await;
    assert_eq!(refusal["code"], "message_too_large", "{refusal}");
    assert_eq!(c.closed().await.map(|f| u16::from(f.code)), Some(1009));
    server.stop().await;
}

/// Frames that break the WebSocket protocol get the standard close codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_violations_close_with_1002_and_1007() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut c, _) = Client::join(&server, "rules", "u").await;
    let not_utf8 = Frame::message(vec![0xff, 0xfe, 0xfd], OpCode::Data(Data::Text), true);
    c.ws.send(Message::Frame(not_utf8)).await.unwrap();
    assert_eq!(c.closed().await.map(|f| u16::from(f.code)), Some(1007));

    let (mut c, _) = Client::join(&server, "rules", "p").await;
    let header = FrameHeader { is_final: false, opcode: OpCode::Control(Control::Ping), ..FrameHeader::default() };
    let fragmented_ping = Frame::from_payload(header, vec![1u8, 2, 3].into());
    c.ws.send(Message::Frame(fragmented_ping)).await.unwrap();
    assert_eq!(c.closed().await.map(|f| u16::from(f.code)), Some(1002));
    // Before hello, too.
    let mut raw = Client::wrap(Client::raw(&server, "rules").await);
    raw.ws.send(Message::Frame(Frame::message(vec![0xc3], OpCode::Data(Data::Text), true))).await.unwrap();
    assert_eq!(raw.closed().await.map(|f| u16::from(f.code)), Some(1007));
    server.stop().await;
}

/// Pings cost the server an answer each: they count against the rate limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_flood_is_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir, |c| {
        c.rate_per_sec = 50;
        c.rate_burst = 10;
    })
    .await;
    let (mut c, _) = Client::join(&server, "pings", "p").await;
    for _ in 0..40 {
        c.ws.send(Message::Ping(Default::default())).await.unwrap();
    }
    let told = c.recv_event().await;
    assert_eq!(told["code"], "rate_limited", "{told}");
    server.stop().await;
}
