//! A message on its way to browsers: serialised once, then shared by every
//! member that gets it (cloning one is a reference count, not a copy). It is
//! the WebSocket text type of the web framework, so that handing it to a
//! socket copies nothing and checks nothing again; those who make frames (the
//! room, presence) need nothing else of the framework.

pub(super) type Frame = axum::extract::ws::Utf8Bytes;

/// A server message, serialised once.
pub(super) fn frame(msg: &sketchboard_core::protocol::ServerMsg) -> Frame {
    Frame::from(msg.to_json())
}
