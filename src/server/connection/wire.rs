//! A connection's socket, split in its two halves: the reading half stays
//! with the connection; the writing half is either here or, while the member
//! has read everything and has nothing else to send, lent to the room's feed,
//! which then writes what the room broadcasts straight to the socket
//! (`room/lent.rs`). Anything the connection sends takes the half back first.

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::SplitStream;
use futures_util::{FutureExt, StreamExt};

use crate::server::room::{Cursor, Left, Read, Writer};

pub(crate) struct Wire {
    /// The reading half (its own field, so a `select!` can read it and the feed at once).
    pub(super) reader: SplitStream<WebSocket>,
    /// The writing half, unless it is lent to the feed.
    writer: Option<Writer>,
    /// The member's place in its room's feed, once joined.
    pub(super) cursor: Option<Cursor>,
    /// A write failed while the feed had the writing half: nothing more goes out.
    failed: bool,
}

impl Wire {
    pub(crate) fn new(socket: WebSocket) -> Wire {
        let (writer, reader) = socket.split();
        Wire { reader, writer: Some(writer), cursor: None, failed: false }
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
    pub(crate) fn writer(&mut self) -> Option<&mut Writer> {
        self.reclaim();
        if self.failed { None } else { self.writer.as_mut() }
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
