//! The browser's WebSocket to its room, kept open for as long as the board is
//! shown: connects, says hello, relays messages both ways, and on any loss
//! reconnects with exponential backoff (with jitter, capped at 10 s).
//!
//! It knows nothing of boards or protocol: its `Owner` (the live board) gives
//! it the hello for each new connection and judges each message, and sends
//! through `Connection::send`. What is queued when a connection ends is
//! dropped, not carried into the next one: the owner re-sends what the room
//! lacks once the next hello is answered.

use std::cell::RefCell;
use std::rc::Weak;

use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, WebSocketError};
use gloo_timers::future::TimeoutFuture;

use sketchboard_core::protocol::close::VIEW_REVOKED;

/// How long opening the socket may take before it counts as failed.
const CONNECT_TIMEOUT_MS: u32 = 10_000;

/// What the browser says about its network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Network {
    Online,
    Offline,
}

/// What to do after a message from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Continue,
    /// Carry on: the hello was answered, so this connection works (the next
    /// loss starts the backoff afresh).
    Joined,
    /// Drop this connection and make a new one (the owner's copy needs a resync).
    Reconnect,
    /// Drop this connection and make a new one later, waiting longer each
    /// time in a row (the server is too busy for what the owner sends).
    Later,
    /// Stop for good: the server will not talk to this page (another protocol version).
    Stop,
}

/// Whoever the connection works for.
pub(super) trait Owner {
    /// The first message of a new connection.
    fn hello(&self) -> String;
    /// One text message from the server.
    fn receive(&self, text: &str) -> Verdict;
    /// The connection is gone (or never came up); another is tried after a
    /// wait. `online` is what the browser says of its network.
    fn lost(&self, online: bool);
    /// The connection stopped for good after `Verdict::Stop`.
    fn stopped(&self);
    /// The connection stopped for good: the view-only link it came by was replaced (close 4007).
    fn revoked(&self);
}

/// The owner's handle on its connection.
pub(super) struct Connection {
    outbox: mpsc::UnboundedSender<String>,
    network: mpsc::UnboundedSender<Network>,
    stop: RefCell<Option<oneshot::Sender<()>>>,
}

/// The connection's task, to be run (once) by whoever owns it.
pub(super) struct Runner {
    outbox: mpsc::UnboundedReceiver<String>,
    network: mpsc::UnboundedReceiver<Network>,
    stop: oneshot::Receiver<()>,
}

impl Connection {
    pub(super) fn new() -> (Connection, Runner) {
        let (outbox_tx, outbox) = mpsc::unbounded();
        let (network_tx, network) = mpsc::unbounded();
        let (stop_tx, stop) = oneshot::channel();
        let handle = Connection { outbox: outbox_tx, network: network_tx, stop: RefCell::new(Some(stop_tx)) };
        (handle, Runner { outbox, network, stop })
    }

    /// Sends a message on the current connection. Call only while the owner
    /// knows one to be up (after its hello was answered).
    pub(super) fn send(&self, text: String) {
        let _ = self.outbox.unbounded_send(text);
    }

    /// The browser's network went away or came back: going offline drops the
    /// connection at once (rather than show "Connected" over a dead socket),
    /// coming back cuts a backoff wait short.
    pub(super) fn network_changed(&self, event: Network) {
        let _ = self.network.unbounded_send(event);
    }

    /// Closes the connection for good: the page is going away.
    pub(super) fn stop(&self) {
        if let Some(stop) = self.stop.borrow_mut().take() {
            let _ = stop.send(());
        }
    }
}

enum Ended {
    /// The owner is gone, or stopped the connection: stop for good.
    Stopped,
    /// The server will not take this client.
    Refused,
    /// The view-only link was replaced: reconnecting would only be refused.
    Revoked,
    /// The connection was lost; `worked` says whether the hello had been answered.
    Lost { worked: bool },
}

impl Runner {
    /// Runs until `Connection::stop`, a `Verdict::Stop`, or the owner is dropped.
    pub(super) async fn run<O: Owner + ?Sized>(mut self, owner: Weak<O>, url: String) {
        let mut stop = self.stop.fuse();
        let mut failures: u32 = 0;
        loop {
            match connect_once(&owner, &url, &mut stop, &mut self.network, &mut self.outbox).await {
                Ended::Stopped => return,
                Ended::Refused => {
                    if let Some(o) = owner.upgrade() {
                        o.stopped();
                    }
                    return;
                }
                Ended::Revoked => {
                    if let Some(o) = owner.upgrade() {
                        o.revoked();
                    }
                    return;
                }
                Ended::Lost { worked } => failures = if worked { 1 } else { failures.saturating_add(1) },
            }
            let Some(o) = owner.upgrade() else { return };
            o.lost(browser_online());
            drop(o);
            let mut delay = TimeoutFuture::new(backoff_ms(failures)).fuse();
            loop {
                futures::select! {
                    _ = delay => break,
                    event = self.network.next() => match (event, owner.upgrade()) {
                        (Some(Network::Online), _) => break,
                        // Say "Offline" now, not after the wait.
                        (Some(Network::Offline), Some(o)) => o.lost(false),
                        _ => return,
                    },
                    _ = stop => return,
                }
            }
        }
    }
}

fn browser_online() -> bool {
    web_sys::window().map(|w| w.navigator().on_line()).unwrap_or(true)
}

/// 250 ms, 500 ms, 1 s, … up to 10 s, each scaled by a random 50–100 % so that
/// a room full of clients does not reconnect in lockstep after a restart.
fn backoff_ms(failures: u32) -> u32 {
    let base = 250f64 * 2f64.powi(failures.saturating_sub(1).min(6) as i32);
    let capped = base.min(10_000.0);
    (capped * (0.5 + js_sys::Math::random() * 0.5)) as u32
}

async fn connect_once<O: Owner + ?Sized>(
    owner: &Weak<O>,
    url: &str,
    stop: &mut futures::future::Fuse<oneshot::Receiver<()>>,
    network: &mut mpsc::UnboundedReceiver<Network>,
    outbox: &mut mpsc::UnboundedReceiver<String>,
) -> Ended {
    // Whatever the last connection left unsent belongs to it.
    while outbox.try_recv().is_ok() {}
    let Ok(ws) = WebSocket::open(url) else { return Ended::Lost { worked: false } };
    let (mut sink, stream) = ws.split();
    let mut stream = stream.fuse();
    let Some(hello) = owner.upgrade().map(|o| o.hello()) else { return Ended::Stopped };
    // Sending waits for the socket to open; a connect that hangs (packets
    // dropped after a network change) must not hold the tab for the browser's
    // own TCP timeout.
    let mut timeout = TimeoutFuture::new(CONNECT_TIMEOUT_MS).fuse();
    let mut sending = sink.send(Message::Text(hello)).fuse();
    loop {
        futures::select! {
            sent = sending => if sent.is_err() {
                return Ended::Lost { worked: false };
            } else {
                break;
            },
            _ = timeout => return Ended::Lost { worked: false },
            // Going offline mid-connect: say so now, not at the timeout.
            event = network.next() => if event == Some(Network::Offline) {
                return Ended::Lost { worked: false };
            },
            _ = &mut *stop => return Ended::Stopped,
        }
    }
    drop(sending);
    let mut worked = false;
    loop {
        futures::select! {
            _ = &mut *stop => return Ended::Stopped,
            event = network.next() => if event == Some(Network::Offline) {
                return Ended::Lost { worked };
            },
            out = outbox.next() => {
                if let Some(text) = out
                    && sink.send(Message::Text(text)).await.is_err()
                {
                    return Ended::Lost { worked };
                }
            }
            incoming = stream.next() => {
                let Some(o) = owner.upgrade() else { return Ended::Stopped };
                match incoming {
                    Some(Ok(Message::Text(text))) => {
                        match o.receive(&text) {
                            Verdict::Continue => {}
                            Verdict::Joined => worked = true,
                            Verdict::Reconnect => return Ended::Lost { worked },
                            Verdict::Later => return Ended::Lost { worked: false },
                            Verdict::Stop => return Ended::Refused,
                        }
                    }
                    Some(Ok(Message::Bytes(_))) => {}
                    Some(Err(WebSocketError::ConnectionClose(e))) if e.code == VIEW_REVOKED => return Ended::Revoked,
                    Some(Err(_)) | None => return Ended::Lost { worked },
                }
            }
        }
    }
}
