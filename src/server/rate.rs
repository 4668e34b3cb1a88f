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
    /// Whether this episode of slowing down has begun (and been announced).
    slowing: bool,
}

/// What to do with a message that just arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Within the rate: read on.
    Go,
    /// Over it: read nothing more until `until`. `first` is set for the
    /// first such message of an episode, the one to tell the sender about.
    Wait { until: Instant, first: bool },
}

impl Bucket {
    pub fn new(limit: RateLimit) -> Bucket {
        Bucket { limit, tokens: f64::from(limit.burst), refilled: Instant::now(), slowing: false }
    }

    /// Takes a token for one message (which is handled either way: only
    /// reading the next one waits).
    pub fn take(&mut self) -> Pace {
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
                self.slowing = false;
            }
            return Pace::Go;
        }
        let first = !std::mem::replace(&mut self.slowing, true);
        Pace::Wait { until: now + Duration::from_secs_f64(-self.tokens / rate), first }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_sender_waits_and_is_told_once() {
        let mut bucket = Bucket::new(RateLimit { per_sec: 1, burst: 2 });
        assert_eq!(bucket.take(), Pace::Go);
        assert_eq!(bucket.take(), Pace::Go);
        let Pace::Wait { until, first: true } = bucket.take() else { panic!("over the burst, the sender waits") };
        assert!(until > Instant::now() + Duration::from_millis(500), "about a second: one token at 1/s");
        assert!(matches!(bucket.take(), Pace::Wait { first: false, .. }), "told once per episode");
    }
}
