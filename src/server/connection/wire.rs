//! A connection's socket, split in its two halves: the reading half stays
//! with the connection; the writing half is either here or, while the member
//! has read everything and has nothing else to send, lent to the room's feed,
//! which then writes what the room broadcasts straight to the socket
//! (`room/socket_writes.rs`, which knows it only as a `MemberSocket`).
//! Anything the connection sends takes the half back first.

use std::any::Any;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{FutureExt, Sink, StreamExt};

use crate::server::frame::Frame;
use crate::server::room::{Cursor, Left, MemberSocket, Read, SocketClosed, Writer};

/// The socket's writing half, as the connection sends on it.
pub(crate) type SocketSink = SplitSink<WebSocket, Message>;

/// The writing half as the room writes to it.
struct Lendable(SocketSink);

impl MemberSocket for Lendable {
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SocketClosed>> {
        Pin::new(&mut self.0).poll_ready(cx).map_err(|_| SocketClosed)
    }

    fn start_send(&mut self, frame: Frame) -> Result<(), SocketClosed> {
        Pin::new(&mut self.0).start_send(Message::Text(frame)).map_err(|_| SocketClosed)
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SocketClosed>> {
        Pin::new(&mut self.0).poll_flush(cx).map_err(|_| SocketClosed)
    }
}

pub(crate) struct Wire {
    /// The reading half (its own field, so a `select!` can read it and the feed at once).
    pub(super) reader: SplitStream<WebSocket>,
    /// The writing half (always a `Lendable`), unless it is lent to the feed.
    writer: Option<Writer>,
    /// The member's place in its room's feed, once joined.
    pub(super) cursor: Option<Cursor>,
    /// A write failed while the feed had the writing half: nothing more goes out.
    failed: bool,
}

impl Wire {
    pub(crate) fn new(socket: WebSocket) -> Wire {
        let (writer, reader) = socket.split();
        Wire { reader, writer: Some(Box::new(Lendable(writer))), cursor: None, failed: false }
    }

    /// The next frame from the client (`None` once the socket is closed).
    pub(crate) async fn recv(&mut self) -> Option<Result<Message, axum::Error>> {
        self.reader.next().await
    }

    /// A frame the client has already sent, if one is waiting. The writing
    /// half is taken back first: while the room writes through it, the two
    /// halves' shared lock would make a waiting frame look absent.
    pub(crate) fn recv_now(&mut self) -> Option<Option<Result<Message, axum::Error>>> {
        self.reclaim();
        self.reader.next().now_or_never()
    }

    /// Takes the writing half back from the feed, if it is lent.
    fn reclaim(&mut self) {
        if self.writer.is_none()
            && let Some((writer, left)) = self.cursor.as_mut().and_then(Cursor::take_back)
        {
            self.failed |= left == Left::Failed;
            self.writer = Some(writer);
        }
    }

    /// The writing half, taken back from the feed if it was lent; `None` once
    /// a write has failed. (What the feed left unflushed goes out with the
    /// next flush, which every send ends with.)
    pub(crate) fn writer(&mut self) -> Option<&mut SocketSink> {
        self.reclaim();
        if self.failed {
            return None;
        }
        let writer: &mut dyn Any = self.writer.as_deref_mut()?;
        // Only a `Lendable` is ever put here (or lent, and so given back).
        writer.downcast_mut::<Lendable>().map(|lendable| &mut lendable.0)
    }

    /// Lends the writing half to the feed if the member has read everything.
    pub(super) fn lend(&mut self) {
        let Some(cursor) = self.cursor.as_mut() else { return };
        if let Some(writer) = self.writer.take()
            && let Err(writer) = cursor.lend(writer)
        {
            self.writer = Some(writer);
        }
    }
}

/// Reads the member's feed; never ready before it has joined one.
pub(super) async fn read_feed(cursor: &mut Option<Cursor>, max: usize) -> Read {
    match cursor {
        Some(cursor) => cursor.read(max).await,
        None => std::future::pending().await,
    }
}
