//! Several nodes: a room's presence passed between the nodes that have it
//! loaded (`peers`: over the room's Redis Pub/Sub channel), never stored.
//! Each node says what its own tabs do (`Said`, with the node's name) and
//! keeps what the others say (`Remote`), passing it to its own tabs as if it
//! happened here. A node that starts listening asks the others to say
//! everything again (`Roll`); every `ALIVE_EVERY` each node names the people
//! and tabs it still has. This file is the relay's I/O: the publishing task
//! and the envelope; what is said and kept is `State`'s.

use tokio::sync::mpsc;

use super::said::{ALIVE_EVERY, Envelope, Said};
use crate::server::peers;
use sketchboard_core::model::RoomName;

/// Messages waiting to be published; past it presence is dropped (the next
/// update says the same, newer).
const QUEUE: usize = 1024;

/// This room's way to the other nodes.
pub(super) struct Relay {
    node: String,
    out: mpsc::Sender<String>,
}

impl Relay {
    /// Starts publishing for `room`; `beat` is called every `ALIVE_EVERY`
    /// (and says false once the room's presence is gone, which ends it).
    pub(super) fn start(peers: &peers::Shared, room: RoomName, beat: impl Fn() -> bool + Send + 'static) -> Relay {
        let (out, rx) = mpsc::channel(QUEUE);
        let node = peers.node().to_owned();
        tokio::spawn(publish(peers.clone(), room, rx, beat));
        Relay { node, out }
    }

    /// Passes `said` to the other nodes.
    pub(super) fn send(&self, said: Said) {
        match serde_json::to_string(&Envelope { node: self.node.clone(), said }) {
            // A full queue drops it: what comes next says the same, newer.
            Ok(text) => drop(self.out.try_send(text)),
            Err(e) => tracing::warn!(error = %e, "could not encode presence for the other nodes"),
        }
    }

    /// What another node said, with its name; `None` for what does not parse
    /// and for this node's own words coming back.
    pub(super) fn read(&self, text: &str) -> Option<(String, Said)> {
        let Ok(Envelope { node, said }) = serde_json::from_str::<Envelope>(text) else {
            tracing::debug!("ignored presence from another node that does not parse");
            return None;
        };
        (node != self.node).then_some((node, said))
    }
}

/// Publishes what the room says, in order, and calls `beat` every
/// `ALIVE_EVERY`, until the room's presence is gone.
async fn publish(
    peers: peers::Shared,
    room: RoomName,
    mut said: mpsc::Receiver<String>,
    beat: impl Fn() -> bool + Send + 'static,
) {
    let mut alive = tokio::time::interval(ALIVE_EVERY);
    loop {
        tokio::select! {
            text = said.recv() => {
                let Some(text) = text else { return };
                if let Err(e) = peers.publish_presence(&room, text).await {
                    tracing::debug!(%room, error = %e, "could not pass presence to the other nodes");
                }
            }
            _ = alive.tick() => {
                if !beat() {
                    return;
                }
            }
        }
    }
}
