//! A test tab: the browser's replica (the shared `Replica`, the very code the
//! page runs) over a real WebSocket, keeping a record of everything it made,
//! saw confirmed and saw refused, so tests can check the server's log against
//! what every client was told.

use std::collections::BTreeMap;

use futures_util::{SinkExt, StreamExt};
use sketchboard::model::{Change, ClientId, Replica};
use sketchboard::protocol::{ClientMsg, ErrorCode, Position, ServerMsg};
use tokio_tungstenite::tungstenite::Message;

use super::Socket;

pub struct Tab {
    pub id: String,
    pub replica: Replica,
    /// The room incarnation the replica's board comes from.
    epoch: u64,
    ws: Option<Socket>,
    /// Every op this tab made and meant to send, in order.
    pub made: Vec<u64>,
    /// (seq, op) of each of our changes the server confirmed.
    pub acked: Vec<(u64, u64)>,
    /// Every change the server said it applied, by seq.
    pub seen: BTreeMap<u64, Change>,
    /// Our ops the server refused, with the reason.
    pub refused: Vec<(u64, ErrorCode)>,
    /// How many hellos were answered with a catch-up rather than a snapshot.
    pub caught_up: usize,
}

impl Tab {
    pub fn new(id: impl Into<String>) -> Tab {
        Tab {
            id: id.into(),
            replica: Replica::new(),
            epoch: 0,
            ws: None,
            made: Vec::new(),
            acked: Vec::new(),
            seen: BTreeMap::new(),
            refused: Vec::new(),
            caught_up: 0,
        }
    }

    pub fn is_connected(&self) -> bool {
        self.ws.is_some()
    }

    /// Connects and says hello (with the board it holds, if any), applies the
    /// answer and re-sends its pending changes, as the page does. Err if the
    /// server is not there or goes away meanwhile.
    pub async fn connect(&mut self, url: &str) -> Result<(), String> {
        let connecting = tokio::time::timeout(super::PATIENCE, tokio_tungstenite::connect_async(url));
        let (ws, _) = connecting.await.map_err(|_| "connect timed out")?.map_err(|e| e.to_string())?;
        self.ws = Some(ws);
        let client = ClientId::parse(self.id.clone()).map_err(|e| e.to_string())?;
        let at = self.replica.base().map(|seq| Position { epoch: self.epoch, seq });
        let hello = ClientMsg::hello(client, at);
        self.send(&hello).await?;
        loop {
            match self.next_msg().await? {
                ServerMsg::Welcome { seq, shapes, last_op, epoch, .. } => {
                    self.epoch = epoch;
                    self.replica.reset(seq, shapes, last_op);
                    break;
                }
                ServerMsg::CatchUp { from, changes, last_op, .. } => {
                    for (i, change) in changes.iter().enumerate() {
                        self.saw(from + 1 + i as u64, change);
                    }
                    self.replica.catch_up(from, &changes, last_op).map_err(|e| format!("{}: {e}", self.id))?;
                    self.caught_up += 1;
                    break;
                }
                ServerMsg::Presence { .. } => {}
                other => return Err(format!("{}: expected an answer to hello, got {other:?}", self.id)),
            }
        }
        let pending: Vec<(u64, Change)> = self.replica.pending().cloned().collect();
        for (op, change) in pending {
            self.send(&ClientMsg::Change { op, change }).await?;
        }
        Ok(())
    }

    /// Drops the connection without a word, as a dead network does.
    pub fn disconnect(&mut self) {
        self.ws = None;
    }

    /// Makes a change locally and sends it if connected (otherwise it waits,
    /// as an offline tab's does). False if the change does not apply here.
    pub async fn make(&mut self, change: Change) -> bool {
        let made = if self.ws.is_some() {
            self.replica.local(change.clone())
        } else {
            self.replica.local_unsent(change.clone())
        };
        let Ok(op) = made else { return false };
        self.made.push(op);
        if self.ws.is_some() && self.send(&ClientMsg::Change { op, change }).await.is_err() {
            self.ws = None;
        }
        true
    }

    /// Waits for one message and applies it. False once the connection is gone.
    pub async fn pump(&mut self) -> bool {
        match self.next_msg().await {
            Ok(msg) => {
                self.handle(msg);
                true
            }
            Err(_) => false,
        }
    }

    /// Applies whatever has already arrived, without waiting.
    pub async fn pump_ready(&mut self) {
        while self.ws.is_some() {
            match futures_util::FutureExt::now_or_never(self.next_msg()) {
                Some(Ok(msg)) => self.handle(msg),
                Some(Err(_)) | None => break,
            }
        }
    }

    fn handle(&mut self, msg: ServerMsg) {
        match msg {
            ServerMsg::Applied { seq, change, op } => {
                self.saw(seq, &change);
                if let Some(op) = op {
                    self.acked.push((seq, op));
                }
                if let Err(e) = self.replica.applied(seq, op, &change) {
                    panic!("{}: the server's stream does not fit: {e}", self.id);
                }
            }
            ServerMsg::Error { code: ErrorCode::RateLimited, .. } | ServerMsg::Presence { .. } => {}
            ServerMsg::Error { code, op: Some(op), .. } => {
                self.refused.push((op, code));
                self.replica.rejected(op);
            }
            other => panic!("{}: unexpected {other:?}", self.id),
        }
    }

    /// Notes a change the server says it applied as `seq`; the same seq must
    /// always mean the same change.
    fn saw(&mut self, seq: u64, change: &Change) {
        if let Some(before) = self.seen.insert(seq, change.clone()) {
            assert_eq!(&before, change, "{}: change {seq} changed between two sightings", self.id);
        }
    }

    async fn send(&mut self, msg: &ClientMsg) -> Result<(), String> {
        let ws = self.ws.as_mut().ok_or("not connected")?;
        let text = serde_json::to_string(msg).map_err(|e| e.to_string())?;
        if let Err(e) = ws.send(Message::text(text)).await {
            self.ws = None;
            return Err(e.to_string());
        }
        Ok(())
    }

    /// The next message; an error if the connection is gone or silent for `PATIENCE`.
    async fn next_msg(&mut self) -> Result<ServerMsg, String> {
        loop {
            let ws = self.ws.as_mut().ok_or("not connected")?;
            let Ok(next) = tokio::time::timeout(super::PATIENCE, ws.next()).await else {
                panic!("{}: nothing from the server for {:?}", self.id, super::PATIENCE);
            };
            match next {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(&text).map_err(|e| format!("unreadable server message: {e}"));
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                    self.ws = None;
                    return Err("connection closed".into());
                }
                Some(Ok(_)) => {}
            }
        }
    }
}
