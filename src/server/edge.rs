//! The front door: accepts TCP connections and serves them with hyper
//! (HTTP/1.1, upgrades for WebSockets), with the limits `axum::serve` does not
//! offer, so that connections which never make a request cannot take the
//! server down:
//!
//! - a deadline for a request's headers (a slow or silent client is closed);
//! - a cap on connections that are not in the middle of a request (still
//!   sending headers, or idle between requests): past it, the one idle
//!   longest is closed to make room, so honest newcomers always get in;
//! - when the process runs out of open files, the same: the longest idle is
//!   closed, and a line is logged as the limit nears;
//! - the peer's address on every request (`ConnectInfo`), for per-address limits.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tower::ServiceExt;

use super::metrics::Metrics;
use super::shutdown::Shutdown;

/// The kernel's send buffer per socket, as asked for (Linux doubles it for
/// its own bookkeeping): with the WebSocket's own write buffer, what a peer
/// that stops reading can cost the server.
const SEND_BUFFER: usize = 128 * 1024;
/// The most a request's line and headers may take: more than any browser sends
/// here (the site sets no cookies of its own), and what a connection that
/// dribbles one endless header line can hold until its header deadline
/// (hyper's own default is about 400 KB). More: 431, and the connection closes.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How the front door treats connections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EdgeLimits {
    /// A request's headers must arrive within this.
    pub header_timeout: Duration,
    /// Connections not in a request, at most; past it the longest idle is closed.
    pub max_idle: usize,
}

/// Accepts and serves until `shutdown`; then lets each connection finish the
/// request it is in.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: EdgeLimits,
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
) -> io::Result<()> {
    let gate = Arc::new(Gate::new(limits.max_idle, metrics));
    let files = Arc::new(OpenFiles::new());
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.wait() => return Ok(()),
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) if is_out_of_files(&e) => {
                // Make room rather than leave everyone waiting in the backlog.
                if !gate.evict_one() {
                    tracing::warn!("out of open files with no idle connection to close; retrying shortly");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                continue;
            }
            Err(e) => {
                tracing::debug!(error = %e, "accept failed");
                continue;
            }
        };
        // Every message is small and wanted now: Nagle's algorithm would hold
        // a frame back until the previous one is acknowledged.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        // What the kernel holds for a peer that does not read is bounded too
        // (left to itself, it grows a loopback buffer to megabytes).
        if let Err(e) = socket2::SockRef::from(&tcp).set_send_buffer_size(SEND_BUFFER) {
            tracing::debug!(error = %e, "could not set the send buffer size");
        }
        let tcp = Counted::new(tcp, files.clone());
        let (id, evicted) = gate.admit();
        let service = request_service(app.clone(), gate.clone(), id, peer);
        let (gate, shutdown) = (gate.clone(), shutdown.clone());
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).max_buf_size(MAX_HEAD_BYTES);
            let conn = builder.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service)).with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                // Closed to make room: dropping the connection closes the socket.
                _ = evicted => {}
                () = shutdown.wait() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            gate.leave(id);
        });
    }
}

/// The router, with the peer's address on each request and the gate told
/// when a request begins and when its response has been sent.
fn request_service(
    app: Router,
    gate: Arc<Gate>,
    id: u64,
    peer: SocketAddr,
) -> impl tower::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Future + Send,
> + Clone
+ Send {
    tower::service_fn(move |mut req: hyper::Request<Incoming>| {
        let (app, gate) = (app.clone(), gate.clone());
        req.extensions_mut().insert(ConnectInfo(peer));
        let busy = Busy::start(gate, id);
        async move {
            let response = app.oneshot(req.map(Body::new)).await?;
            // Busy until the body has gone out (or the connection went away).
            Ok(response.map(|inner| Body::new(Tracked { inner, _busy: busy })))
        }
    })
}

fn is_out_of_files(e: &io::Error) -> bool {
    // EMFILE (the process's limit) and ENFILE (the system's).
    matches!(e.raw_os_error(), Some(24 | 23))
}

/// Which connections are idle, oldest first, and how to close each.
struct Gate {
    max_idle: usize,
    metrics: Arc<Metrics>,
    inner: Mutex<GateInner>,
}

#[derive(Default)]
struct GateInner {
    next_id: u64,
    /// Bumped whenever a connection becomes idle: the order of idleness.
    next_turn: u64,
    conns: BTreeMap<u64, Conn>,
    /// (turn, id) of every idle connection.
    idle: BTreeMap<u64, u64>,
}

struct Conn {
    /// Requests in progress on it (more than one only with pipelining).
    busy: usize,
    /// Its place in `idle`, while idle.
    turn: Option<u64>,
    evict: Option<oneshot::Sender<()>>,
}

impl Gate {
    fn new(max_idle: usize, metrics: Arc<Metrics>) -> Gate {
        Gate { max_idle: max_idle.max(1), metrics, inner: Mutex::new(GateInner::default()) }
    }

    fn lock(&self) -> MutexGuard<'_, GateInner> {
        // Every change below leaves the maps consistent; a panic elsewhere cannot break them.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new connection, idle until its first request; evicts the longest
    /// idle one if that makes too many.
    fn admit(&self) -> (u64, oneshot::Receiver<()>) {
        let (evict, evicted) = oneshot::channel();
        let mut g = self.lock();
        while g.idle.len() >= self.max_idle {
            if !g.evict_oldest() {
                break;
            }
            self.metrics.evicted.inc();
        }
        let id = g.next_id;
        g.next_id += 1;
        g.conns.insert(id, Conn { busy: 0, turn: None, evict: Some(evict) });
        g.make_idle(id);
        (id, evicted)
    }

    /// Closes the connection idle longest; false if none is idle.
    fn evict_one(&self) -> bool {
        let evicted = self.lock().evict_oldest();
        if evicted {
            self.metrics.evicted.inc();
        }
        evicted
    }

    fn busy(&self, id: u64, starting: bool) {
        let mut g = self.lock();
        let Some(conn) = g.conns.get_mut(&id) else { return };
        if starting {
            conn.busy += 1;
            if let Some(turn) = conn.turn.take() {
                g.idle.remove(&turn);
            }
        } else {
            conn.busy = conn.busy.saturating_sub(1);
            if conn.busy == 0 {
                g.make_idle(id);
            }
        }
    }

    fn leave(&self, id: u64) {
        let mut g = self.lock();
        if let Some(Conn { turn: Some(turn), .. }) = g.conns.remove(&id) {
            g.idle.remove(&turn);
        }
    }
}

impl GateInner {
    fn make_idle(&mut self, id: u64) {
        let turn = self.next_turn;
        self.next_turn += 1;
        if let Some(conn) = self.conns.get_mut(&id)
            && conn.turn.is_none()
        {
            conn.turn = Some(turn);
            self.idle.insert(turn, id);
        }
    }

    fn evict_oldest(&mut self) -> bool {
        let Some((_, id)) = self.idle.pop_first() else { return false };
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.turn = None;
            if let Some(evict) = conn.evict.take() {
                let _ = evict.send(());
            }
        }
        true
    }
}

/// A response body that keeps its connection marked busy until it is sent
/// (or dropped), and is otherwise exactly the body it wraps.
struct Tracked {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Marks a connection busy for as long as it lives.
struct Busy {
    gate: Arc<Gate>,
    id: u64,
}

impl Busy {
    fn start(gate: Arc<Gate>, id: u64) -> Busy {
        gate.busy(id, true);
        Busy { gate, id }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.gate.busy(self.id, false);
    }
}

/// How many sockets are open against the process's open-file limit, with a
/// warning as the limit nears.
struct OpenFiles {
    open: AtomicUsize,
    limit: usize,
    warned: AtomicBool,
}

impl OpenFiles {
    fn new() -> OpenFiles {
        let limit = open_file_limit();
        OpenFiles { open: AtomicUsize::new(0), limit, warned: AtomicBool::new(false) }
    }

    fn opened(&self) {
        let open = self.open.fetch_add(1, Ordering::Relaxed) + 1;
        if open * 10 >= self.limit * 9 && !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(open, limit = self.limit, "open sockets are near the open-file limit");
        }
    }

    fn closed(&self) {
        let open = self.open.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
        if open * 10 < self.limit * 8 {
            self.warned.store(false, Ordering::Relaxed);
        }
    }
}

/// The soft open-file limit, raised to the hard limit (once per process).
pub(super) fn raise_open_file_limit() -> usize {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => usize::try_from(limit).unwrap_or(usize::MAX),
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            open_file_limit()
        }
    }
}

fn open_file_limit() -> usize {
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| usize::try_from(soft).unwrap_or(usize::MAX))
}

/// A TCP stream counted in `OpenFiles` until it is dropped (after an upgrade
/// too: the WebSocket owns it then).
struct Counted {
    tcp: TcpStream,
    files: Arc<OpenFiles>,
}

impl Counted {
    fn new(tcp: TcpStream, files: Arc<OpenFiles>) -> Counted {
        files.opened();
        Counted { tcp, files }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.files.closed();
    }
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_idle_connection_makes_room_and_busy_ones_are_spared() {
        let gate = Gate::new(2, Metrics::new());
        let (a, mut a_evicted) = gate.admit();
        let (b, mut b_evicted) = gate.admit();
        gate.busy(a, true);
        let (_c, _) = gate.admit();
        assert!(a_evicted.try_recv().is_err(), "a is in a request: spared");
        let (_d, _) = gate.admit();
        assert!(b_evicted.try_recv().is_ok(), "b was idle longest: closed");
        gate.busy(a, false);
        gate.leave(b);
        assert_eq!(gate.lock().idle.len(), 3, "a, c and d idle; the cap is met again at the next admission");
    }
}
