//! Writing to a member's socket from the room: what the feed does with a
//! writing half a caught-up member lent it.
//!
//! The room must never wait on one member's socket, so it writes only what
//! the socket takes at once: each write is polled once, with a waker that
//! does nothing, and whatever cannot finish is left to the member, which the
//! feed then wakes. A message counts as sent once the writing half has taken
//! it (it is queued in order, and goes out with the next flush, whoever makes
//! it); the member reads what was not taken from the feed, as it always does.

use std::collections::vec_deque;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use axum::extract::ws::{Message, WebSocket};
use futures_util::Sink;
use futures_util::stream::SplitSink;

use super::feed::{Entry, Slot};

/// A member socket's writing half.
pub type Writer = SplitSink<WebSocket, Message>;

/// What a write from the room left for the member to finish.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Left {
    #[default]
    Nothing,
    /// Messages taken but not yet flushed, or the socket was busy: flush,
    /// then read on.
    Unflushed,
    /// The socket failed: the connection is over.
    Failed,
}

/// Writes `entries` (the slot's next ones) to the slot's lent writing half,
/// as far as it takes them at once, and records in `slot.left` what is left.
/// Returns how many messages the socket took.
pub(super) fn write_through(slot: &mut Slot, entries: vec_deque::Iter<'_, Entry>) -> u64 {
    let Some(writer) = slot.lent.as_mut() else { return 0 };
    let mut taken = 0;
    let mut cx = Context::from_waker(Waker::noop());
    let mut writer = Pin::new(writer);
    for entry in entries {
        if let Some(msg) = entry.for_reader(slot.me) {
            match writer.as_mut().poll_ready(&mut cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => {
                    slot.left = Left::Failed;
                    return taken;
                }
                Poll::Pending => {
                    slot.left = Left::Unflushed;
                    return taken;
                }
            }
            if writer.as_mut().start_send(Message::Text(msg.clone())).is_err() {
                slot.left = Left::Failed;
                return taken;
            }
            taken += 1;
        }
        slot.next += 1;
    }
    slot.left = match writer.poll_flush(&mut cx) {
        Poll::Ready(Ok(())) => Left::Nothing,
        Poll::Ready(Err(_)) => Left::Failed,
        Poll::Pending => Left::Unflushed,
    };
    taken
}
