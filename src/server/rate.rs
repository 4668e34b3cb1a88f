//! The per-connection rate limit: a token bucket. Over the limit a connection
//! is not cut off and nothing it sent is dropped: the connection simply stops
//! reading it until a token is due, so a flood slows only its sender (TCP
//! pushes back), while a drag at the display's rate, or a burst of offline
//! edits, passes untouched.

use std::time::Duration;

use tokio::time::Instant;

/// A token bucket: `per_sec` messages a second on average, up to `burst` at once.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub per_sec: u32,
    pub burst: u32,
}

/// One connection's bucket.
pub struct Bucket {
    limit: RateLimit,
    tokens: f64,
    refilled: Instant,
    /// Whether the sender was told it is being slowed, this episode.
    pub told: bool,
}

impl Bucket {
    pub fn new(limit: RateLimit) -> Bucket {
        Bucket { limit, tokens: f64::from(limit.burst), refilled: Instant::now(), told: false }
    }

    /// Takes a token for one message. `None` if one was there; otherwise when
    /// the next one is due (the message is handled anyway: reading waits).
    pub fn take(&mut self) -> Option<Instant> {
        let now = Instant::now();
        let rate = f64::from(self.limit.per_sec.max(1));
        let earned = now.duration_since(self.refilled).as_secs_f64() * rate;
        self.tokens = (self.tokens + earned).min(f64::from(self.limit.burst.max(1)));
        self.refilled = now;
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            // An episode ends once the bucket is half full again, so a flood
            // is told once, not after every short lull in it.
            if self.tokens >= f64::from(self.limit.burst.max(1)) / 2.0 {
                self.told = false;
            }
            return None;
        }
        Some(now + Duration::from_secs_f64(-self.tokens / rate))
    }
}
