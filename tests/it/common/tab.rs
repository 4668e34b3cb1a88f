//! A test tab: the shared client `Session` (the very code the page runs)
//! over a real WebSocket, keeping a record of everything it made, saw
//! confirmed and saw refused, so tests can check the server's log against
//! what every client was told.

use std::collections::BTreeMap;

use futures_util::{SinkExt, StreamExt};
use sketchboard_core::model::{Board, Change, ClientId};
use sketchboard_core::protocol::{ClientMsg, ErrorCode, ServerMsg};
use sketchboard_core::session::{Event, Session};
use tokio_tungstenite::tungstenite::Message;

use super::Socket;

pub(crate) struct Tab {
    pub id: String,
    session: Session,
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
    pub(crate) fn new(id: impl Into<String>) -> Tab {
        let id = id.into();
        let client = ClientId::parse(id.clone()).expect("a valid client id");
        Tab {
            id,
            session: Session::new(client),
            ws: None,
            made: Vec::new(),
            acked: Vec::new(),
            seen: BTreeMap::new(),
            refused: Vec::new(),
            caught_up: 0,
        }
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.ws.is_some()
    }

    /// What the tab shows.
    pub(crate) fn view(&self) -> &Board {
        self.session.view()
    }

    /// The last change of the room this tab holds.
    pub(crate) fn seq(&self) -> u64 {
        self.session.replica().seq()
    }

    /// Changes the room has not confirmed yet.
    pub(crate) fn pending(&self) -> usize {
        self.session.pending()
    }

    /// Connects and says hello (with the board it holds, if any), takes the
    /// answer and re-sends what the room lacks, as the page does. Err if the
    /// server is not there or goes away meanwhile.
    pub(crate) async fn connect(&mut self, url: &str) -> Result<(), String> {
        let connecting = tokio::time::timeout(super::PATIENCE, tokio_tungstenite::connect_async(url));
        let (ws, _) = connecting.await.map_err(|_| "connect timed out")?.map_err(|e| e.to_string())?;
        self.ws = Some(ws);
        let hello = self.session.hello();
        self.send(&hello).await?;
        let resend = loop {
            let msg = self.next_msg().await?;
            if let ServerMsg::CatchUp { from, changes, .. } = &msg {
                for (i, change) in changes.iter().enumerate() {
                    self.saw(from + 1 + i as u64, change);
                }
                self.caught_up += 1;
            }
            match self.session.receive(msg) {
                Event::Joined { resend, .. } => break resend,
                Event::Members(_) => {}
                other => return Err(format!("{}: expected an answer to hello, got {other:?}", self.id)),
            }
        };
        for msg in resend {
            self.send(&msg).await?;
        }
        Ok(())
    }

    /// Drops the connection without a word, as a dead network does.
    pub(crate) fn disconnect(&mut self) {
        self.ws = None;
        self.session.disconnected();
    }

    /// Makes a change locally and sends it if connected (otherwise it waits,
    /// as an offline tab's does). False if the change does not apply here.
    pub(crate) async fn make(&mut self, change: Change) -> bool {
        let Ok(made) = self.session.change(change) else { return false };
        self.made.push(made.op);
        for msg in made.send {
            if self.send(&msg).await.is_err() {
                self.disconnect();
                break;
            }
        }
        true
    }

    /// Waits for one message and applies it. False once the connection is gone.
    pub(crate) async fn pump(&mut self) -> bool {
        match self.next_msg().await {
            Ok(msg) => {
                self.handle(msg);
                true
            }
            Err(_) => false,
        }
    }

    /// Applies whatever has already arrived, without waiting.
    pub(crate) async fn pump_ready(&mut self) {
        while self.ws.is_some() {
            match futures_util::FutureExt::now_or_never(self.next_msg()) {
                Some(Ok(msg)) => self.handle(msg),
                Some(Err(_)) | None => break,
            }
        }
    }

    fn handle(&mut self, msg: ServerMsg) {
        match self.session.receive(msg) {
            Event::Applied { seq, change, own, .. } => {
                self.saw(seq, &change);
                if let Some(op) = own {
                    self.acked.push((seq, op));
                }
            }
            Event::Resync(e) => panic!("{}: the server's stream does not fit: {e}", self.id),
            Event::Refused { code: ErrorCode::RateLimited, .. }
            | Event::Arriving
            | Event::Members(_)
            | Event::Presence(_) => {}
            Event::Refused { code, op: Some(op), .. } => self.refused.push((op, code)),
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
        if let Err(e) = ws.send(Message::text(msg.to_json())).await {
            self.disconnect();
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
                    return ServerMsg::decode(&text).map_err(|e| format!("unreadable server message: {e}"));
                }
                Some(Ok(Message::Close(Some(frame)))) => {
                    self.disconnect();
                    return Err(format!("closed with {}", u16::from(frame.code)));
                }
                Some(Ok(Message::Close(None))) | Some(Err(_)) | None => {
                    self.disconnect();
                    return Err("connection closed".into());
                }
                Some(Ok(_)) => {}
            }
        }
    }
}
