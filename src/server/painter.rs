//! Turns to draw a PNG (`pictures.rs`). Drawing costs CPU that the rooms
//! need, and a link shared in a busy chat is fetched by every preview bot at
//! once: so half the cores draw at most, a bounded number of requests wait,
//! each for a bounded time, and the rest are told to come back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

/// Requests that may wait for their turn to draw; past that, none.
pub const RENDERS_WAITING: usize = 16;
/// How long a request waits for its turn.
const RENDER_WAIT: Duration = Duration::from_secs(10);

/// One server's turns to draw.
pub(crate) struct Painter {
    /// Half the cores (at least one), so drawing never takes the whole machine.
    turns: Semaphore,
    /// Requests waiting for a turn.
    waiting: AtomicUsize,
}

impl Painter {
    pub(crate) fn new() -> Painter {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Painter { turns: Semaphore::new((cores / 2).max(1)), waiting: AtomicUsize::new(0) }
    }

    /// A turn to draw, held until dropped; `None` when too many wait already
    /// or the wait took too long.
    pub(crate) async fn turn(&self) -> Option<SemaphorePermit<'_>> {
        if let Ok(turn) = self.turns.try_acquire() {
            return Some(turn);
        }
        let before = self.waiting.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(&self.waiting);
        if before >= RENDERS_WAITING {
            return None;
        }
        tokio::time::timeout(RENDER_WAIT, self.turns.acquire()).await.ok()?.ok()
    }
}

/// Counts a request in the queue while it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
