//! A bare broadcast relay, the floor a Rust WebSocket server sets for
//! docs/benchmarks.md: it speaks Sketchboard's protocol well enough for the
//! load generator (hello, welcome, changes numbered per room and sent to
//! every member, the author's copy carrying its `op`), and does nothing else:
//! no validation, no limits. Not part of the product.
//!
//! With `--record FILE` it is the floor for "record, then show": one writer
//! thread appends every numbered change to FILE in group commits (one
//! `write` of all that waits, then `fdatasync`, into space zeroed ahead so
//! that the sync is the data's alone) and only then sends them to the rooms'
//! members. Without it nothing is stored.
//!
//!     bench-relay 127.0.0.1:3920 [--record /tmp/relay.log]

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

/// A change numbered in its room: what its author gets and what the others get.
struct Numbered {
    room: String,
    author: u64,
    own: Message,
    others: Message,
}

/// Where numbered changes go: to the members at once, or to the recorder first.
type Recorder = Option<std::sync::mpsc::Sender<Numbered>>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args.first().cloned().unwrap_or_else(|| "127.0.0.1:3920".into());
    let listener = TcpListener::bind(&addr).await?;
    let rooms: Rooms = Arc::default();
    let recorder = match args.iter().position(|a| a == "--record").and_then(|i| args.get(i + 1)) {
        Some(path) => {
            let file = std::fs::OpenOptions::new().create(true).truncate(true).write(true).open(path)?;
            let (changes, numbered) = std::sync::mpsc::channel();
            let rooms = rooms.clone();
            std::thread::spawn(move || {
                if let Err(e) = record(file, &rooms, &numbered) {
                    eprintln!("bench-relay: recording failed: {e}");
                    std::process::exit(1);
                }
            });
            eprintln!("bench-relay recording to {path}");
            Some(changes)
        }
        None => None,
    };
    eprintln!("bench-relay listening on {addr}");
    let mut next_id = 0;
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        next_id += 1;
        tokio::spawn(serve(tcp, next_id, rooms.clone(), recorder.clone()));
    }
}

/// Zeros are written this far ahead of the log, so that a commit's
/// `fdatasync` carries data only, never a change of the file's size (as a
/// database's write-ahead log reuses its file).
const AHEAD: usize = 64 << 20;

/// The writer thread: everything numbered meanwhile in one `write`, then
/// `fdatasync`, then to the members (from this thread: measured, that beat
/// handing each commit back to the runtime); again as soon as that is done.
fn record(file: std::fs::File, rooms: &Rooms, numbered: &std::sync::mpsc::Receiver<Numbered>) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let (mut buf, mut at, mut end) = (Vec::new(), 0u64, 0u64);
    while let Ok(first) = numbered.recv() {
        let mut batch = vec![first];
        batch.extend(numbered.try_iter());
        buf.clear();
        for change in &batch {
            if let Message::Text(text) = &change.others {
                buf.extend_from_slice(text.as_bytes());
                buf.push(b'\n');
            }
        }
        while at + buf.len() as u64 > end {
            file.write_all_at(&vec![0; AHEAD], end)?;
            file.sync_all()?;
            end += AHEAD as u64;
        }
        file.write_all_at(&buf, at)?;
        file.sync_data()?;
        at += buf.len() as u64;
        let rooms = rooms.lock().unwrap_or_else(|p| p.into_inner());
        for change in batch {
            if let Some(room) = rooms.get(&change.room) {
                room.send(change);
            }
        }
    }
    Ok(())
}

impl Room {
    /// Sends a change to every member: the author's copy to its author.
    fn send(&self, change: Numbered) {
        for (member, out) in &self.members {
            let _ = out.send(if *member == change.author { change.own.clone() } else { change.others.clone() });
        }
    }
}

// The handshake callback's error type is tungstenite's, large or not.
#[allow(clippy::result_large_err)]
async fn serve(tcp: TcpStream, id: u64, rooms: Rooms, recorder: Recorder) {
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
                let numbered = Numbered { room: room.clone(), author: id, own, others };
                // (Sent to the recorder under the rooms' lock: its order is the rooms' order.)
                match &recorder {
                    Some(recorder) => {
                        let _ = recorder.send(numbered);
                    }
                    None => r.send(numbered),
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
