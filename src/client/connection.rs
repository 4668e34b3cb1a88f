//! The browser's WebSocket to its room, kept open for as long as the board is
//! shown: connects, says hello, relays messages, and on any loss reconnects
//! with exponential backoff (with jitter, capped at 10 s). Every connection
//! starts from the server's welcome snapshot, so a reconnect resynchronises.

use std::rc::Weak;

use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, SinkExt, StreamExt};
use gloo_net::websocket::Message;
use gloo_net::websocket::futures::WebSocket;
use gloo_timers::future::TimeoutFuture;

use super::live_board::{Incoming, LiveBoard, Network};
use super::pages::ConnStatus;

/// How long opening the socket may take before it counts as failed.
const CONNECT_TIMEOUT_MS: u32 = 10_000;

enum Ended {
    /// The board was closed: stop for good.
    Stopped,
    /// The server will not take this client (another protocol version).
    Refused,
    /// The connection was lost; `welcomed` says whether it had worked.
    Lost { welcomed: bool },
}

/// Runs until `stop` fires or the board is dropped. `network` carries the
/// browser's online/offline events: going offline drops the connection at once
/// (rather than showing "Connected" over a dead socket), coming back online
/// cuts a backoff wait short.
pub async fn run(
    board: Weak<LiveBoard>,
    url: String,
    stop: oneshot::Receiver<()>,
    mut network: mpsc::UnboundedReceiver<Network>,
) {
    let mut stop = stop.fuse();
    let mut failures: u32 = 0;
    loop {
        match connect_once(&board, &url, &mut stop, &mut network).await {
            Ended::Stopped => return,
            Ended::Refused => {
                if let Some(b) = board.upgrade() {
                    b.set_status(ConnStatus::Outdated);
                }
                return;
            }
            Ended::Lost { welcomed } => {
                failures = if welcomed { 1 } else { failures.saturating_add(1) };
            }
        }
        let Some(b) = board.upgrade() else { return };
        b.connection_lost();
        drop(b);
        let mut delay = TimeoutFuture::new(backoff_ms(failures)).fuse();
        loop {
            futures::select! {
                _ = delay => break,
                event = network.next() => match (event, board.upgrade()) {
                    (Some(Network::Online), _) => break,
                    // Say "Offline" now, not after the wait.
                    (Some(Network::Offline), Some(b)) => b.connection_lost(),
                    // The board is gone.
                    _ => return,
                },
                _ = stop => return,
            }
        }
    }
}

/// 250 ms, 500 ms, 1 s, … up to 10 s, each scaled by a random 50–100 % so that
/// a room full of clients does not reconnect in lockstep after a restart.
fn backoff_ms(failures: u32) -> u32 {
    let base = 250f64 * 2f64.powi(failures.saturating_sub(1).min(6) as i32);
    let capped = base.min(10_000.0);
    (capped * (0.5 + js_sys::Math::random() * 0.5)) as u32
}

async fn connect_once(
    board: &Weak<LiveBoard>,
    url: &str,
    stop: &mut futures::future::Fuse<oneshot::Receiver<()>>,
    network: &mut mpsc::UnboundedReceiver<Network>,
) -> Ended {
    let Ok(ws) = WebSocket::open(url) else { return Ended::Lost { welcomed: false } };
    let (mut sink, stream) = ws.split();
    let mut stream = stream.fuse();
    let (tx, mut outbox) = mpsc::unbounded::<String>();
    let Some(hello) = board.upgrade().map(|b| b.hello()) else { return Ended::Stopped };
    // Sending waits for the socket to open; a connect that hangs (packets
    // dropped after a network change) must not hold the tab for the browser's
    // own TCP timeout.
    let mut timeout = TimeoutFuture::new(CONNECT_TIMEOUT_MS).fuse();
    let mut sending = sink.send(Message::Text(hello)).fuse();
    loop {
        futures::select! {
            sent = sending => if sent.is_err() {
                return Ended::Lost { welcomed: false };
            } else {
                break;
            },
            _ = timeout => return Ended::Lost { welcomed: false },
            // Going offline mid-connect: say so now, not at the timeout.
            event = network.next() => if event == Some(Network::Offline) {
                return Ended::Lost { welcomed: false };
            },
            _ = &mut *stop => return Ended::Stopped,
        }
    }
    drop(sending);
    let mut welcomed = false;
    loop {
        futures::select! {
            _ = &mut *stop => return Ended::Stopped,
            event = network.next() => if event == Some(Network::Offline) {
                return Ended::Lost { welcomed };
            },
            out = outbox.next() => {
                if let Some(text) = out
                    && sink.send(Message::Text(text)).await.is_err()
                {
                    return Ended::Lost { welcomed };
                }
            }
            incoming = stream.next() => {
                let Some(b) = board.upgrade() else { return Ended::Stopped };
                match incoming {
                    Some(Ok(Message::Text(text))) => match b.receive(&text) {
                        Incoming::Welcome => {
                            welcomed = true;
                            b.connected(tx.clone());
                        }
                        Incoming::Ok => {}
                        Incoming::Resync => return Ended::Lost { welcomed },
                        Incoming::Refused => return Ended::Refused,
                    },
                    Some(Ok(Message::Bytes(_))) => {}
                    Some(Err(_)) | None => return Ended::Lost { welcomed },
                }
            }
        }
    }
}
