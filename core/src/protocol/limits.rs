//! The protocol's numbers: its version, and the limits both ends keep.

/// Bumped on any change that an older peer would misread.
pub const PROTOCOL_VERSION: u32 = 8;

/// The most shapes one `board` message carries: a big board comes in parts,
/// each a few tens of kilobytes, shared by every joiner of the same state.
pub const SHAPES_PER_PART: usize = 512;

/// The largest message a client may send, in bytes. A larger one is answered
/// with `message_too_large` and the connection is closed with code 1009.
/// (Server messages have no such limit: a welcome carries a whole board.)
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The most `part` messages one change may travel in (see `ClientMsg::Part`):
/// with each message within `MAX_MESSAGE_BYTES`, a change is at most 4 MiB
/// on the wire, which a full board replaced takes about 3 MiB of.
pub const MAX_PARTS: u32 = 64;

/// The largest `op` accepted: JavaScript numbers are exact up to here.
pub const MAX_OP: u64 = (1 << 53) - 1;

/// How far above the last `op` a room accepted from a client the next may
/// be. A client numbers its changes one by one; a jump this large could only
/// be made to push the client's mark out of reach (every later change would
/// be stale), so it is refused.
pub const MAX_OP_JUMP: u64 = 1 << 20;

/// The longest `build` a hello may carry.
pub const MAX_BUILD_LEN: usize = 64;

/// Which build this is; a client states it in its hello, for the server's logs.
pub const BUILD: &str = env!("CARGO_PKG_VERSION");
