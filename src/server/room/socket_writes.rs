//! Writing to a member's socket from the room: what the feed does with a
//! writing half a caught-up member lent it. The room sees a socket only as
//! `MemberSocket`, which the connection implements: it never names the web
//! framework.
//!
//! The room must never wait on one member's socket, so it writes only what
//! the socket takes at once: each write is polled once, with a waker that
//! does nothing, and whatever cannot finish is left to the member, which the
//! feed then wakes. A message counts as sent once the writing half has taken
//! it (it is queued in order, and goes out with the next flush, whoever makes
//! it); the member reads what was not taken from the feed, as it always does.

use std::any::Any;
use std::task::{Context, Poll, Waker};

use crate::server::frame::Frame;

/// The socket is closed or broken: nothing more goes out on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SocketClosed;

/// A member socket's writing half, as the room writes to it: text frames, in
/// order, as a `Sink` takes them. `Any`, so the connection can have its own
/// back when the room returns it.
pub(crate) trait MemberSocket: Any + Send {
    /// Whether it can take a frame now.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SocketClosed>>;
    /// Takes a frame (after `poll_ready` said it could).
    fn start_send(&mut self, frame: Frame) -> Result<(), SocketClosed>;
    /// Sends what it has taken.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SocketClosed>>;
}

/// A writing half lent to the room.
pub(crate) type Writer = Box<dyn MemberSocket>;

/// What a write from the room left for the member to finish.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Left {
    #[default]
    Nothing,
    /// Messages taken but not yet flushed, or the socket was busy: flush,
    /// then read on.
    Unflushed,
    /// The socket failed: the connection is over.
    Failed,
}

/// What one write from the room did.
pub(super) struct Wrote {
    /// Entries got through (written, or not for this member).
    pub entries: u64,
    /// Messages the socket took.
    pub messages: u64,
    pub left: Left,
}

/// Writes the next entries of a member's feed to the writing half it lent,
/// as far as the socket takes them at once: each item is one entry, with the
/// member's message if it has one.
pub(super) fn write_through<'a>(writer: &mut Writer, entries: impl Iterator<Item = Option<&'a Frame>>) -> Wrote {
    let mut wrote = Wrote { entries: 0, messages: 0, left: Left::Nothing };
    let mut cx = Context::from_waker(Waker::noop());
    for msg in entries {
        if let Some(msg) = msg {
            match writer.poll_ready(&mut cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(SocketClosed)) => return Wrote { left: Left::Failed, ..wrote },
                Poll::Pending => return Wrote { left: Left::Unflushed, ..wrote },
            }
            if writer.start_send(msg.clone()).is_err() {
                return Wrote { left: Left::Failed, ..wrote };
            }
            wrote.messages += 1;
        }
        wrote.entries += 1;
    }
    wrote.left = match writer.poll_flush(&mut cx) {
        Poll::Ready(Ok(())) => Left::Nothing,
        Poll::Ready(Err(SocketClosed)) => Left::Failed,
        Poll::Pending => Left::Unflushed,
    };
    wrote
}
