//! A bare broadcast relay, the floor a Rust WebSocket server sets for
//! docs/benchmarks.md: it speaks Sketchboard's protocol well enough for the
//! load generator (hello, welcome, changes numbered per room and sent to
//! every member, the author's copy carrying its `op`), and does nothing else:
//! no storage, no validation, no limits. Not part of the product.
//!
//!     bench-relay 127.0.0.1:3920

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use sketchboard_core::model::RoomName;
use sketchboard_core::protocol::{ClientMsg, PROTOCOL_VERSION, ServerMsg};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// Each room: its next change number and its members' outboxes.
#[derive(Default)]
struct Room {
    seq: u64,
    members: HashMap<u64, mpsc::UnboundedSender<Message>>,
}

type Rooms = Arc<Mutex<HashMap<String, Room>>>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3920".into());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("bench-relay listening on {addr}");
    let rooms: Rooms = Arc::default();
    let mut next_id = 0;
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        next_id += 1;
        tokio::spawn(serve(tcp, next_id, rooms.clone()));
    }
}

// The handshake callback's error type is tungstenite's, large or not.
#[allow(clippy::result_large_err)]
async fn serve(tcp: TcpStream, id: u64, rooms: Rooms) {
    let mut path = String::new();
    let handshake = tokio_tungstenite::accept_hdr_async(tcp, |req: &Request, resp: Response| {
        path = req.uri().path().to_owned();
        Ok(resp)
    });
    let Ok(ws) = handshake.await else { return };
    let room = path.rsplit('/').next().unwrap_or_default().to_owned();
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let writer = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            if sink.feed(first).await.is_err() {
                return;
            }
            while let Ok(more) = rx.try_recv() {
                if sink.feed(more).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(frame)) = stream.next().await {
        let Message::Text(text) = frame else { continue };
        match ClientMsg::decode(&text) {
            Ok(ClientMsg::Hello { .. }) => {
                let mut rooms = rooms.lock().unwrap_or_else(|p| p.into_inner());
                let r = rooms.entry(room.clone()).or_default();
                r.members.insert(id, tx.clone());
                let (seq, members) = (r.seq, r.members.len() as u32);
                let name = RoomName::parse(room.clone()).unwrap_or_else(|_| RoomName::parse("relay").expect("a name"));
                let welcome = ServerMsg::Welcome {
                    version: PROTOCOL_VERSION,
                    room: name,
                    seq,
                    epoch: 1,
                    members,
                    last_op: 0,
                    parts: 1,
                };
                let _ = tx.send(Message::text(welcome.to_json()));
                let _ = tx.send(Message::text(ServerMsg::Board { seq, part: 0, shapes: Vec::new() }.to_json()));
            }
            Ok(ClientMsg::Change { op, change }) => {
                let mut rooms = rooms.lock().unwrap_or_else(|p| p.into_inner());
                let Some(r) = rooms.get_mut(&room) else { continue };
                r.seq += 1;
                let seq = r.seq;
                let own =
                    Message::text(ServerMsg::Applied { seq, change: change.clone(), op: Some(op), by: None }.to_json());
                let others = Message::text(ServerMsg::Applied { seq, change, op: None, by: None }.to_json());
                for (member, out) in &r.members {
                    let _ = out.send(if *member == id { own.clone() } else { others.clone() });
                }
            }
            // Presence is not relayed: the relay is the baseline for changes only.
            Ok(_) | Err(_) => {}
        }
    }
    if let Some(r) = rooms.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&room) {
        r.members.remove(&id);
    }
    writer.abort();
}
