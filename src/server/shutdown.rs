//! Shutdown: one signal that the HTTP server and every open WebSocket watch,
//! and a way to wait until every WebSocket has said goodbye.

use std::time::Duration;

use tokio::sync::{mpsc, watch};

#[derive(Clone)]
pub(crate) struct Shutdown {
    tx: std::sync::Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
}

impl Shutdown {
    pub(crate) fn new() -> Shutdown {
        let (tx, rx) = watch::channel(false);
        Shutdown { tx: std::sync::Arc::new(tx), rx }
    }

    pub(crate) fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Resolves once shutdown has been triggered.
    pub(crate) async fn wait(&self) {
        let mut rx = self.rx.clone();
        // An error means the sender is gone, which also means shutting down.
        let _ = rx.wait_for(|stopping| *stopping).await;
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

/// Resolves on Ctrl-C, or SIGTERM on Unix.
pub(super) async fn signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// Held by every open connection for as long as it lives. When the last one
/// (and the server's own) is dropped, `Drained::wait` returns: this is how
/// shutdown knows every socket has sent its close frame.
#[derive(Clone)]
pub(crate) struct ConnectionGuard {
    _alive: mpsc::Sender<()>,
}

pub(super) struct Drained {
    rx: mpsc::Receiver<()>,
}

pub(super) fn connection_tracking() -> (ConnectionGuard, Drained) {
    let (tx, rx) = mpsc::channel(1);
    (ConnectionGuard { _alive: tx }, Drained { rx })
}

impl Drained {
    /// Waits for every guard to be dropped, at most `limit`. Returns whether they were.
    pub(super) async fn wait(mut self, limit: Duration) -> bool {
        // Nothing is ever sent: `recv` returns `None` once all senders are gone.
        tokio::time::timeout(limit, self.rx.recv()).await.is_ok()
    }
}
