//! The room's lease (`storage::lease`), as the room holds it: its epoch and
//! when to renew it. `owning.rs` claims, renews, releases and loses it.

use std::time::Duration;

use tokio::time::Instant;

/// How soon a renewal that failed (Redis did not answer) is tried again. The
/// lease may run out meanwhile: that is safe (a renewal checks the owner, not
/// the clock, and an append is fenced if another node took the room).
pub(super) const RETRY_RENEWAL: Duration = Duration::from_secs(1);

/// A lease this node holds on the room.
#[derive(Debug, Clone, Copy)]
pub(super) struct Held {
    pub(super) epoch: u64,
    /// When to renew it (`None`: it lasts for good).
    pub(super) renew_at: Option<Instant>,
}

impl Held {
    pub(super) fn from(epoch: u64, lasts: Option<Duration>) -> Held {
        Held { epoch, renew_at: lasts.map(|l| Instant::now() + l / 3) }
    }
}

/// Ready when `lease` is due for renewal (never, without one that runs out).
pub(super) async fn due(lease: Option<Held>) {
    match lease.and_then(|held| held.renew_at) {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
