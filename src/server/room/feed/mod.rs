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
//!
//! A member that has read everything and has nothing else to send lends the
//! feed its socket's writing half (`Cursor::lend`). The room then writes what
//! it publishes straight to that socket, as long as the socket takes it at
//! once (`socket_writes.rs`): in a busy room most members are caught up, and this
//! spares each of them a task wake-up per message, the largest cost of a
//! delivery after the kernel's. The member is woken only when the socket
//! could not take everything, and then sends the rest itself, as before.

use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use prometheus_client::metrics::counter::Counter;

use super::conn_id::ConnId;
pub(super) use super::socket_writes::Writer;
use super::socket_writes::{Left, write_through};
use crate::server::frame::Frame;
use crate::server::metrics::{By, Metrics};

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
        own: Frame,
    },
    One(ConnId),
}

impl To {
    /// What `reader` is sent of an entry holding `msg`, if anything.
    fn pick<'a>(&'a self, msg: &'a Frame, reader: ConnId) -> Option<&'a Frame> {
        match self {
            To::All => Some(msg),
            To::AllWithOwnCopy { author, own } if *author == reader => Some(own),
            To::AllWithOwnCopy { .. } => Some(msg),
            To::One(who) if *who == reader => Some(msg),
            To::One(_) => None,
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    to: To,
    msg: Frame,
    at: Instant,
}

impl Entry {
    /// What the entry holds: its message, and its author's own copy if it has one.
    fn bytes(&self) -> usize {
        self.msg.len() + if let To::AllWithOwnCopy { own, .. } = &self.to { own.len() } else { 0 }
    }

    /// Its message for `reader`, if it has one.
    fn for_reader(&self, reader: ConnId) -> Option<&Frame> {
        self.to.pick(&self.msg, reader)
    }
}

pub(crate) struct Feed {
    inner: Mutex<Inner>,
    deliveries: Deliveries,
}

/// Messages handed to members' sockets, counted by who handed them (`/metrics`).
#[derive(Clone, Default)]
pub(crate) struct Deliveries {
    /// Written and flushed by the room, to sockets caught-up members lent it.
    pub by_room: Counter,
    /// Read from the feed and sent by the member's own connection, or
    /// started by the room and flushed by the member.
    pub by_member: Counter,
}

impl Deliveries {
    /// The server's counters (every room adds to the same two).
    pub(crate) fn counted_by(metrics: &Metrics) -> Deliveries {
        let counter = |by| metrics.deliveries.get_or_create(&By { by }).clone();
        Deliveries { by_room: counter("room"), by_member: counter("member") }
    }
}

/// One reader's place, and its socket's writing half while lent.
struct Slot {
    me: ConnId,
    /// The index of the next entry it reads.
    next: u64,
    /// Woken when there is something for it to do.
    waker: Option<Waker>,
    /// The writing half, while the reader has lent it.
    lent: Option<Writer>,
    /// What the room's last write to it left for the reader to finish.
    left: Left,
    /// Dropped by the room: nothing more is written on its behalf.
    forgotten: bool,
}

impl Slot {
    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

#[derive(Default)]
struct Inner {
    /// The index of `entries[0]`.
    first: u64,
    entries: VecDeque<Entry>,
    bytes: usize,
    closed: bool,
    /// Every reader, by its cursor's key.
    readers: HashMap<u64, Slot>,
    next_key: u64,
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
        let until = self.readers.values().map(|r| r.next).min().unwrap_or(end).min(end);
        while self.first < until {
            self.pop_front();
        }
    }

    /// Hands the entries from `from` on to the readers: written straight to
    /// the sockets lent for it, the other readers woken. Returns how many
    /// messages it wrote to sockets whole, and how many it left half-sent
    /// (taken by the socket, not flushed: the member finishes those).
    fn publish(&mut self, from: u64) -> (u64, u64) {
        let Inner { first, entries, readers, .. } = self;
        let (mut written, mut unfinished) = (0, 0);
        for slot in readers.values_mut() {
            // Caught up to `from`, nothing left over, still a member.
            let ready = slot.next == from && slot.left == Left::Nothing && !slot.forgotten;
            let me = slot.me;
            match slot.lent.as_mut() {
                Some(writer) if ready => {
                    let next = entries.range((from - *first) as usize..).map(|entry| entry.for_reader(me));
                    let wrote = write_through(writer, next);
                    slot.next += wrote.entries;
                    slot.left = wrote.left;
                    if wrote.left == Left::Nothing {
                        written += wrote.messages;
                    } else {
                        unfinished += wrote.messages;
                        slot.wake();
                    }
                }
                _ => slot.wake(),
            }
        }
        (written, unfinished)
    }
}

/// What a read gave.
#[derive(Debug)]
pub(crate) enum Read {
    Messages(Vec<Frame>),
    /// The lent writing half is back, with what the room could not finish
    /// writing on it: flush it.
    Returned,
    /// The reader fell behind what the buffer keeps.
    Lagged,
    /// The room is gone.
    Closed,
}

impl Feed {
    pub(crate) fn new(deliveries: Deliveries) -> Arc<Feed> {
        Arc::new(Feed { inner: Mutex::new(Inner::default()), deliveries })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change leaves the buffer consistent; a panic elsewhere cannot break it.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends a message, making room by dropping the oldest, and hands it on.
    pub(crate) fn push(&self, to: To, msg: Frame) {
        self.extend([(to, msg)]);
    }

    /// Appends messages, making room by dropping the oldest, and hands them
    /// on together (so a lent socket takes them in one write).
    pub(crate) fn extend(&self, messages: impl IntoIterator<Item = (To, Frame)>) {
        let now = Instant::now();
        let mut inner = self.lock();
        let from = inner.end();
        for (to, msg) in messages {
            let entry = Entry { to, msg, at: now };
            inner.bytes += entry.bytes();
            inner.entries.push_back(entry);
            if inner.end().is_multiple_of(TRIM_EVERY) {
                inner.trim_read();
            }
        }
        if inner.end() == from {
            return;
        }
        // Outside tokio's cooperative budget: past it, every socket write
        // would come back Pending (the budget counts each as one operation,
        // about 128 per turn of the room's task), and a room of hundreds of
        // members would hand most of them back their sockets each time. The
        // work is bounded anyway: one write per member (1,000 by default).
        let publish = std::future::poll_fn(|_| Poll::Ready(inner.publish(from)));
        let (written, unfinished) = tokio::task::unconstrained(publish).now_or_never().unwrap_or((0, 0));
        self.deliveries.by_room.inc_by(written);
        self.deliveries.by_member.inc_by(unfinished);
        while let Some(oldest) = inner.entries.front() {
            let over = inner.entries.len() > MAX_ENTRIES || inner.bytes > MAX_BYTES;
            if !over && now.duration_since(oldest.at) <= MAX_AGE {
                break;
            }
            inner.pop_front();
        }
    }

    /// A reader for `me`, from the next entry on.
    pub(crate) fn cursor(self: &Arc<Self>, me: ConnId) -> Cursor {
        let mut inner = self.lock();
        let key = inner.next_key;
        inner.next_key += 1;
        let next = inner.end();
        let slot = Slot { me, next, waker: None, lent: None, left: Left::Nothing, forgotten: false };
        inner.readers.insert(key, slot);
        Cursor { feed: self.clone(), key, me, spare: Vec::new(), returned: None }
    }

    /// The room dropped `member`: nothing more is written to its socket for
    /// it (it must resynchronise), and it is woken to take its writer back.
    pub(crate) fn forget(&self, member: ConnId) {
        for slot in self.lock().readers.values_mut().filter(|s| s.me == member) {
            slot.forgotten = true;
            slot.wake();
        }
    }

    /// The room is gone: readers get `Closed` once they have read the rest.
    pub(crate) fn close(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        inner.readers.values_mut().for_each(Slot::wake);
    }
}

/// One member's place in its room's feed.
pub(crate) struct Cursor {
    feed: Arc<Feed>,
    key: u64,
    me: ConnId,
    /// The last batch's buffer, given back, so reading does not allocate.
    spare: Vec<Frame>,
    /// The writing half, taken back from the feed by a read.
    returned: Option<(Writer, Left)>,
}

impl std::fmt::Debug for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cursor {{ member: {} }}", self.me)
    }
}

impl Drop for Cursor {
    fn drop(&mut self) {
        self.feed.lock().readers.remove(&self.key);
    }
}

impl Cursor {
    /// Gives a batch's buffer back once its messages are sent.
    pub(crate) fn recycle(&mut self, batch: Vec<Frame>) {
        self.spare = batch;
    }

    /// Lends the feed the socket's writing half, if this reader has read
    /// everything (else it is handed back).
    pub(crate) fn lend(&mut self, writer: Writer) -> Result<(), Writer> {
        let mut inner = self.feed.lock();
        let (end, closed) = (inner.end(), inner.closed);
        match inner.readers.get_mut(&self.key) {
            Some(slot) if slot.next == end && !closed && !slot.forgotten && self.returned.is_none() => {
                slot.lent = Some(writer);
                slot.left = Left::Nothing;
                Ok(())
            }
            _ => Err(writer),
        }
    }

    /// Takes the writing half back, with what the room left unfinished on it.
    pub(crate) fn take_back(&mut self) -> Option<(Writer, Left)> {
        if let Some(returned) = self.returned.take() {
            return Some(returned);
        }
        let mut inner = self.feed.lock();
        let slot = inner.readers.get_mut(&self.key)?;
        slot.lent.take().map(|writer| (writer, std::mem::take(&mut slot.left)))
    }

    /// Up to `max` messages for this member, waiting for some if there are
    /// none yet. Cancel-safe: nothing is taken unless it is returned. Whatever
    /// it returns, a lent writing half is taken back first (`take_back`), so
    /// the room never writes past what this reader is about to send.
    pub(crate) async fn read(&mut self, max: usize) -> Read {
        poll_fn(|cx| {
            let mut inner = self.feed.lock();
            let (first, end, closed) = (inner.first, inner.end(), inner.closed);
            let Inner { entries, readers, .. } = &mut *inner;
            let Some(slot) = readers.get_mut(&self.key) else { return Poll::Ready(Read::Closed) };
            let take_back = |slot: &mut Slot, returned: &mut Option<(Writer, Left)>| {
                if let Some(writer) = slot.lent.take() {
                    *returned = Some((writer, std::mem::take(&mut slot.left)));
                }
            };
            if slot.next < first {
                take_back(slot, &mut self.returned);
                return Poll::Ready(Read::Lagged);
            }
            let mut out = std::mem::take(&mut self.spare);
            out.clear();
            while slot.next < end && out.len() < max {
                let entry = &entries[(slot.next - first) as usize];
                slot.next += 1;
                if let Some(msg) = entry.for_reader(self.me) {
                    out.push(msg.clone());
                }
            }
            if !out.is_empty() {
                take_back(slot, &mut self.returned);
                self.feed.deliveries.by_member.inc_by(out.len() as u64);
                return Poll::Ready(Read::Messages(out));
            }
            self.spare = out;
            if slot.next == end && closed {
                take_back(slot, &mut self.returned);
                return Poll::Ready(Read::Closed);
            }
            if slot.left != Left::Nothing {
                take_back(slot, &mut self.returned);
                return Poll::Ready(Read::Returned);
            }
            match &mut slot.waker {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                waker => *waker = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests;
