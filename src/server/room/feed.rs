//! A room's outbound stream: every message the room sends its members, once,
//! in order, in one buffer they all share. Each member's connection reads it
//! through its own `Cursor`, at its own pace.
//!
//! So a burst costs the room one entry per message however many are in the
//! room, and costs a member nothing until it reads: a member that is briefly
//! behind (others' bursts, a slow moment) catches up from the shared buffer
//! instead of overflowing a queue of its own. The buffer keeps only what some
//! member has yet to read, and at most `MAX_ENTRIES`, `MAX_BYTES` or
//! `MAX_AGE` worth: a member that falls behind that has lost its place, and
//! must resynchronise.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::watch;

use super::ConnId;

/// The most entries the buffer keeps.
pub(crate) const MAX_ENTRIES: usize = 32 * 1024;
/// The most message bytes it keeps.
const MAX_BYTES: usize = 16 * 1024 * 1024;
/// The oldest entry it keeps: a member this far behind is not catching up.
const MAX_AGE: Duration = Duration::from_secs(30);
/// How many pushes between two looks at what every reader has read.
const TRIM_EVERY: u64 = 64;

/// Who an entry is for.
#[derive(Clone, Debug)]
pub(crate) enum To {
    All,
    /// Everyone, but the author gets its own copy (its confirmation).
    AllWithOwnCopy {
        author: ConnId,
        own: Utf8Bytes,
    },
    One(ConnId),
}

#[derive(Clone, Debug)]
struct Entry {
    to: To,
    msg: Utf8Bytes,
    at: Instant,
}

impl Entry {
    /// What the entry holds: its message, and its author's own copy if it has one.
    fn bytes(&self) -> usize {
        self.msg.len() + if let To::AllWithOwnCopy { own, .. } = &self.to { own.len() } else { 0 }
    }
}

pub(crate) struct Feed {
    inner: Mutex<Inner>,
    /// The index one past the newest entry: what readers wait on.
    end: watch::Sender<u64>,
}

#[derive(Default)]
struct Inner {
    /// The index of `entries[0]`.
    first: u64,
    entries: VecDeque<Entry>,
    bytes: usize,
    closed: bool,
    /// Where each reader is (the index of the next entry it reads).
    readers: Vec<Weak<AtomicU64>>,
}

impl Inner {
    fn end(&self) -> u64 {
        self.first + self.entries.len() as u64
    }

    fn pop_front(&mut self) {
        if let Some(oldest) = self.entries.pop_front() {
            self.bytes -= oldest.bytes();
            self.first += 1;
        }
    }

    /// Drops the entries every reader has read.
    fn trim_read(&mut self) {
        let end = self.end();
        self.readers.retain(|r| r.strong_count() > 0);
        let read_by_all = self.readers.iter().filter_map(Weak::upgrade).map(|r| r.load(Ordering::Relaxed)).min();
        let until = read_by_all.unwrap_or(end).min(end);
        while self.first < until {
            self.pop_front();
        }
    }
}

/// What a read gave.
#[derive(Debug)]
pub enum Read {
    Messages(Vec<Utf8Bytes>),
    /// The reader fell behind what the buffer keeps.
    Lagged,
    /// The room is gone.
    Closed,
}

impl Feed {
    pub(crate) fn new() -> Arc<Feed> {
        Arc::new(Feed { inner: Mutex::new(Inner::default()), end: watch::Sender::new(0) })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change leaves the buffer consistent; a panic elsewhere cannot break it.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends a message, making room by dropping the oldest.
    pub(crate) fn push(&self, to: To, msg: Utf8Bytes) {
        let now = Instant::now();
        let end = {
            let mut inner = self.lock();
            let entry = Entry { to, msg, at: now };
            inner.bytes += entry.bytes();
            inner.entries.push_back(entry);
            if inner.end().is_multiple_of(TRIM_EVERY) {
                inner.trim_read();
            }
            while let Some(oldest) = inner.entries.front() {
                let over = inner.entries.len() > MAX_ENTRIES || inner.bytes > MAX_BYTES;
                if !over && now.duration_since(oldest.at) <= MAX_AGE {
                    break;
                }
                inner.pop_front();
            }
            inner.end()
        };
        self.end.send_replace(end);
    }

    /// A reader for `me`, from the next entry on.
    pub(crate) fn cursor(self: &Arc<Self>, me: ConnId) -> Cursor {
        let mut inner = self.lock();
        let next = inner.end();
        let at = Arc::new(AtomicU64::new(next));
        inner.readers.push(Arc::downgrade(&at));
        Cursor { feed: self.clone(), me, next, at, end: self.end.subscribe(), spare: Vec::new() }
    }

    /// The room is gone: readers get `Closed` once they have read the rest.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.end.send_modify(|_| {});
    }
}

/// One member's place in its room's feed.
pub struct Cursor {
    feed: Arc<Feed>,
    me: ConnId,
    next: u64,
    /// `next`, where the feed can see it, so it keeps only what is unread.
    at: Arc<AtomicU64>,
    end: watch::Receiver<u64>,
    /// The last batch's buffer, given back, so reading does not allocate.
    spare: Vec<Utf8Bytes>,
}

impl std::fmt::Debug for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cursor {{ member: {}, next: {} }}", self.me, self.next)
    }
}

impl Cursor {
    /// Gives a batch's buffer back once its messages are sent.
    pub(crate) fn recycle(&mut self, batch: Vec<Utf8Bytes>) {
        self.spare = batch;
    }

    /// Up to `max` messages for this member, waiting for some if there are
    /// none yet. Cancel-safe: nothing is taken unless it is returned.
    pub(crate) async fn read(&mut self, max: usize) -> Read {
        loop {
            // Seen before looking, so a push after the look still wakes us.
            self.end.borrow_and_update();
            {
                let inner = self.feed.lock();
                if self.next < inner.first {
                    return Read::Lagged;
                }
                let end = inner.first + inner.entries.len() as u64;
                let mut out = std::mem::take(&mut self.spare);
                out.clear();
                while self.next < end && out.len() < max {
                    let entry = &inner.entries[(self.next - inner.first) as usize];
                    self.next += 1;
                    match &entry.to {
                        To::All => out.push(entry.msg.clone()),
                        To::AllWithOwnCopy { author, own } if *author == self.me => out.push(own.clone()),
                        To::AllWithOwnCopy { .. } => out.push(entry.msg.clone()),
                        To::One(who) if *who == self.me => out.push(entry.msg.clone()),
                        To::One(_) => {}
                    }
                }
                self.at.store(self.next, Ordering::Relaxed);
                if !out.is_empty() {
                    return Read::Messages(out);
                }
                self.spare = out;
                if self.next == end && inner.closed {
                    return Read::Closed;
                }
                if self.next < end {
                    // Everything read so far was for others: look again.
                    continue;
                }
            }
            if self.end.changed().await.is_err() {
                return Read::Closed;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Utf8Bytes {
        Utf8Bytes::from(s.to_owned())
    }

    fn messages(read: Read) -> Vec<String> {
        match read {
            Read::Messages(m) => m.iter().map(|t| t.as_str().to_owned()).collect(),
            other => panic!("expected messages, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn each_member_reads_what_is_for_it_in_order() {
        let feed = Feed::new();
        let (mut a, mut b) = (feed.cursor(ConnId(1)), feed.cursor(ConnId(2)));
        feed.push(To::All, text("p1"));
        feed.push(To::AllWithOwnCopy { author: ConnId(1), own: text("c1-own") }, text("c1"));
        feed.push(To::One(ConnId(2)), text("refused"));
        assert_eq!(messages(a.read(10).await), ["p1", "c1-own"]);
        assert_eq!(messages(b.read(2).await), ["p1", "c1"]);
        assert_eq!(messages(b.read(10).await), ["refused"]);
        // A late reader starts at the end.
        let mut late = feed.cursor(ConnId(3));
        feed.push(To::All, text("p2"));
        assert_eq!(messages(late.read(10).await), ["p2"]);
    }

    #[tokio::test]
    async fn the_feed_keeps_only_what_someone_has_yet_to_read() {
        let feed = Feed::new();
        let (mut fast, mut slow) = (feed.cursor(ConnId(1)), feed.cursor(ConnId(2)));
        for i in 0..TRIM_EVERY * 2 {
            feed.push(To::All, text(&i.to_string()));
            let _ = fast.read(1).await;
        }
        assert_eq!(feed.lock().entries.len() as u64, TRIM_EVERY * 2, "the slow reader has read nothing");
        while let Read::Messages(_) =
            tokio::time::timeout(Duration::from_millis(10), slow.read(1000)).await.unwrap_or(Read::Closed)
        {}
        drop(slow);
        for i in 0..TRIM_EVERY {
            feed.push(To::All, text(&i.to_string()));
            let _ = fast.read(100).await;
        }
        assert!(feed.lock().entries.len() < TRIM_EVERY as usize, "read by all (and a reader gone): let go");
    }

    #[tokio::test]
    async fn a_reader_waits_for_the_next_entry() {
        let feed = Feed::new();
        let mut a = feed.cursor(ConnId(1));
        let waiting = tokio::spawn(async move { messages(a.read(10).await) });
        tokio::task::yield_now().await;
        feed.push(To::All, text("late"));
        assert_eq!(waiting.await.unwrap(), ["late"]);
    }

    #[tokio::test]
    async fn a_reader_behind_what_is_kept_has_lost_its_place_but_got_a_gapless_prefix() {
        let feed = Feed::new();
        let mut slow = feed.cursor(ConnId(1));
        feed.push(To::All, text("0"));
        assert_eq!(messages(slow.read(1).await), ["0"]);
        for i in 1..=MAX_ENTRIES + 1 {
            feed.push(To::All, text(&i.to_string()));
        }
        assert!(matches!(slow.read(10).await, Read::Lagged));
        feed.close();
        let mut last = feed.cursor(ConnId(2));
        assert!(matches!(last.read(10).await, Read::Closed));
    }
}
