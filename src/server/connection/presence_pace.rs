//! Presence by bytes, both ways, for one connection. Presence (names,
//! pointers, selections) is never stored, but a flood of it costs the server
//! what changes need: parsing on the way in, writing to every tab on the way
//! out. So, besides the message rate every frame counts against:
//!
//! - **in**: a connection may send `IN_PER_SEC` bytes of presence on average
//!   (`IN_BURST` at once); past it, the connection is read more slowly (TCP
//!   pushes back on the sender) and told `rate_limited` once. Its address may
//!   send `fairness::PRESENCE_BYTES_PER_SEC` over all its connections; past
//!   that, what they say is held back (the latest of each kind) until the
//!   address is within it again, and their reading never slows for it: one
//!   person's flood must not slow a colleague's changes behind the same NAT;
//! - **out**: a tab is written at most `OUT_PER_SEC` bytes of others'
//!   presence on average; past it, what they say waits in its inbox, where
//!   only the latest of each kind is kept.
//!
//! An honest tab is far inside both: a pointer at 30 Hz is about 2 KB a
//! second, the largest selection 33 KB, sent when the selection changes.

use tokio::time::Instant;

use crate::server::fairness::Permit;
use crate::server::rate::TokenBucket;

/// Presence bytes one connection may send a second, on average.
pub(super) const IN_PER_SEC: f64 = 64.0 * 1024.0;
/// And at once: several changes of a large selection in a row.
const IN_BURST: f64 = 256.0 * 1024.0;
/// Others' presence written to one tab a second, on average: fifty people's
/// pointers at 30 Hz are about 120 KB.
const OUT_PER_SEC: f64 = 256.0 * 1024.0;
const OUT_BURST: f64 = 512.0 * 1024.0;

/// What to do after presence was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Heard {
    /// Read nothing more until then (the connection is over its own
    /// allowance); `true` for the first time in an episode: tell the sender.
    pub wait: Option<(Instant, bool)>,
    /// Pass nothing on until then (its address is over its allowance).
    pub hold: Option<Instant>,
}

pub(super) struct PresencePace {
    incoming: TokenBucket,
    outgoing: TokenBucket,
    /// Whether this episode of slowing down has been announced.
    slowing: bool,
}

impl PresencePace {
    pub(super) fn new() -> PresencePace {
        PresencePace {
            incoming: TokenBucket::new(IN_PER_SEC, IN_BURST),
            outgoing: TokenBucket::new(OUT_PER_SEC, OUT_BURST),
            slowing: false,
        }
    }

    /// `bytes` of presence were read from this connection (`permit`'s).
    pub(super) fn heard(&mut self, bytes: usize, permit: &Permit) -> Heard {
        let hold = permit.presence(bytes);
        let wait = match self.incoming.take_many(bytes as f64) {
            None => {
                // An episode ends once the connection's allowance is half back.
                if self.incoming.half_full() {
                    self.slowing = false;
                }
                None
            }
            Some(until) => Some((until, !std::mem::replace(&mut self.slowing, true))),
        };
        Heard { wait, hold }
    }

    /// `bytes` of others' presence were written to this tab; when it may be
    /// written more, if it is over its allowance.
    pub(super) fn sent(&mut self, bytes: usize) -> Option<Instant> {
        self.outgoing.take_many(bytes as f64)
    }
}
