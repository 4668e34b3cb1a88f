//! Who draws a picture, and when. Drawing (loading a whole board, then
//! rasterising or writing it out) costs memory and CPU that the rooms need,
//! and a link shared in a busy chat is fetched by every preview bot at once:
//!
//! - a picture of a room state drawn lately is served again, not redrawn;
//! - asks for a picture already being drawn wait for that one drawing;
//! - otherwise a request asks for a turn *before* it loads anything: half the
//!   cores draw at most, `RENDERS_WAITING` requests wait (each for a bounded
//!   time), and the rest are told at once to come back (`Busy`).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Semaphore, watch};

use crate::server::metrics::{Metrics, Why};
use crate::server::storage::Head;
use sketchboard_core::model::RoomName;

/// Requests that may wait for their turn to draw; past that, none.
pub const RENDERS_WAITING: usize = 16;
/// How long a request waits for its turn, or for someone else's drawing.
const RENDER_WAIT: Duration = Duration::from_secs(10);
/// Pictures kept once drawn, and the bytes they may take all together (a full
/// board's SVG or file is about 1 MB, a PNG a few hundred KB).
const KEPT: usize = 32;
const KEPT_BYTES: usize = 32 * 1024 * 1024;

/// Which picture of which room state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub room: RoomName,
    pub head: Head,
    pub what: What,
}

/// A picture's kind (and a PNG's scale, as the bits of an `f32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum What {
    Svg,
    Png(u32),
    Json,
}

/// Why there is no picture.
#[derive(Debug)]
pub(crate) enum NotDrawn {
    /// No turn free, or none soon enough: come back later.
    Busy,
    /// Loading or drawing failed (logged by whoever failed).
    Failed(String),
}

/// One server's turns to draw, and what was drawn.
pub(crate) struct Painter {
    /// Half the cores (at least one), so drawing never takes the whole machine.
    turns: Semaphore,
    /// Requests waiting for a turn.
    waiting: AtomicUsize,
    kept: Mutex<Kept>,
    /// Pictures being drawn: whoever asks for one waits for it.
    drawing: Mutex<HashMap<Key, watch::Receiver<Option<Bytes>>>>,
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct Kept {
    pictures: VecDeque<(Key, Bytes)>,
    bytes: usize,
}

impl Painter {
    pub(crate) fn new(metrics: Arc<Metrics>) -> Painter {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Painter {
            turns: Semaphore::new((cores / 2).max(1)),
            waiting: AtomicUsize::new(0),
            kept: Mutex::default(),
            drawing: Mutex::default(),
            metrics,
        }
    }

    /// The picture `key` names: kept, or being drawn, or drawn now by `draw`
    /// in a turn. `draw` loads the room and returns the picture with the state
    /// it shows (the room may have moved on since `key` was read).
    pub(crate) async fn picture<F>(&self, key: Key, draw: impl FnOnce() -> F) -> Result<Bytes, NotDrawn>
    where
        F: Future<Output = Result<(Head, Bytes), String>>,
    {
        if let Some(picture) = self.kept(&key) {
            self.count("kept");
            return Ok(picture);
        }
        let done = {
            let mut drawing = lock(&self.drawing);
            match drawing.get(&key) {
                Some(underway) => Err(underway.clone()),
                None => {
                    let (done, underway) = watch::channel(None);
                    drawing.insert(key.clone(), underway);
                    Ok(done)
                }
            }
        };
        let done = match done {
            Ok(done) => done,
            Err(mut underway) => {
                // Someone is drawing this very picture: take theirs.
                let ready = tokio::time::timeout(RENDER_WAIT, underway.wait_for(Option::is_some)).await;
                let picture = ready.ok().and_then(|r| r.ok().and_then(|p| p.clone()));
                self.count(if picture.is_some() { "shared" } else { "busy" });
                return picture.ok_or(NotDrawn::Busy);
            }
        };
        // Whatever happens from here (even this request going away), the
        // others waiting for this picture are let go.
        let _underway = Underway { painter: self, key: &key };
        let Some(_turn) = self.turn().await else {
            self.count("busy");
            return Err(NotDrawn::Busy);
        };
        let (shown, picture) = draw().await.map_err(NotDrawn::Failed)?;
        self.keep(Key { head: shown, ..key.clone() }, picture.clone());
        let _ = done.send(Some(picture.clone()));
        self.count("drawn");
        Ok(picture)
    }

    /// A turn to draw, held until dropped; `None` when too many wait already
    /// or the wait took too long.
    async fn turn(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        if let Ok(turn) = self.turns.try_acquire() {
            return Some(turn);
        }
        let before = self.waiting.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(self);
        if before >= RENDERS_WAITING {
            return None;
        }
        self.metrics.pictures_waiting.inc();
        let _shown = Shown(self);
        tokio::time::timeout(RENDER_WAIT, self.turns.acquire()).await.ok()?.ok()
    }

    fn kept(&self, key: &Key) -> Option<Bytes> {
        lock(&self.kept).pictures.iter().find(|(k, _)| k == key).map(|(_, picture)| picture.clone())
    }

    fn keep(&self, key: Key, picture: Bytes) {
        if picture.len() > KEPT_BYTES {
            return;
        }
        let mut kept = lock(&self.kept);
        if kept.pictures.iter().any(|(k, _)| *k == key) {
            return;
        }
        while kept.pictures.len() >= KEPT || kept.bytes + picture.len() > KEPT_BYTES {
            let Some((_, gone)) = kept.pictures.pop_front() else { break };
            kept.bytes -= gone.len();
        }
        kept.bytes += picture.len();
        kept.pictures.push_back((key, picture));
    }

    fn count(&self, outcome: &'static str) {
        self.metrics.pictures.get_or_create(&Why { why: outcome }).inc();
    }
}

/// A picture being drawn, until it is (or is not): taken out of `drawing`
/// when dropped, which lets go of whoever waits for it.
struct Underway<'a> {
    painter: &'a Painter,
    key: &'a Key,
}

impl Drop for Underway<'_> {
    fn drop(&mut self) {
        lock(&self.painter.drawing).remove(self.key);
    }
}

/// Counts a request in the queue while it waits.
struct Waiting<'a>(&'a Painter);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts a request in the `pictures_waiting` gauge while it waits (those
/// turned away at once are not shown).
struct Shown<'a>(&'a Painter);

impl Drop for Shown<'_> {
    fn drop(&mut self) {
        self.0.metrics.pictures_waiting.dec();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update leaves the contents whole; a panic elsewhere does not make them unusable.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
