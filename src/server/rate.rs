//! Token buckets: the per-connection rate limit, and the allowances the
//! per-address limits (`fairness`) are made of.
//!
//! Over its rate a connection is not cut off and nothing it sent is dropped:
//! the connection simply stops reading it until a token is due, so a flood
//! slows only its sender (TCP pushes back), while a drag at the display's
//! rate, or a burst of offline edits, passes untouched.

use std::time::Duration;

use tokio::time::Instant;

/// A token bucket's shape: `per_sec` messages a second on average, up to `burst` at once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateLimit {
    pub per_sec: u32,
    pub burst: u32,
}

/// Tokens that refill at a steady rate up to a cap.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    per_sec: f64,
    burst: f64,
    tokens: f64,
    refilled: Instant,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens, refilling at `per_sec`.
    pub(crate) fn new(per_sec: f64, burst: f64) -> TokenBucket {
        let (per_sec, burst) = (per_sec.max(f64::MIN_POSITIVE), burst.max(1.0));
        TokenBucket { per_sec, burst, tokens: burst, refilled: Instant::now() }
    }

    fn refill(&mut self) -> Instant {
        let now = Instant::now();
        let earned = now.duration_since(self.refilled).as_secs_f64() * self.per_sec;
        self.tokens = (self.tokens + earned).min(self.burst);
        self.refilled = now;
        now
    }

    /// Takes a token if there is one.
    pub(crate) fn try_take(&mut self) -> bool {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return true;
        }
        false
    }

    /// Whether a token is there now (none is taken).
    pub(crate) fn has_token(&mut self) -> bool {
        self.refill();
        self.tokens >= 1.0
    }

    /// Takes a token, into debt if need be; returns when the debt is paid off
    /// (`None` if there was no debt).
    fn take(&mut self) -> Option<Instant> {
        self.take_many(1.0)
    }

    /// Takes `n` tokens (bytes, say), into debt if need be; returns when the
    /// debt is paid off (`None` if there was no debt).
    pub(crate) fn take_many(&mut self, n: f64) -> Option<Instant> {
        self.take_owing_at_most(n, f64::INFINITY)
    }

    /// As `take_many`, but the debt never grows past `most` tokens: what is
    /// owed past it is forgiven (for allowances that hold something back
    /// rather than stop someone, so that waiting never grows without end).
    pub(crate) fn take_owing_at_most(&mut self, n: f64, most: f64) -> Option<Instant> {
        let now = self.refill();
        self.tokens = (self.tokens - n).max(-most);
        (self.tokens < 0.0).then(|| now + Duration::from_secs_f64(-self.tokens / self.per_sec))
    }

    /// Whether the bucket is at least half full.
    pub(crate) fn half_full(&self) -> bool {
        self.tokens >= self.burst / 2.0
    }

    /// Whether the bucket would be full now: nothing to remember about it.
    pub(crate) fn is_full(&self) -> bool {
        self.tokens + self.refilled.elapsed().as_secs_f64() * self.per_sec >= self.burst
    }
}

/// One connection's bucket.
pub(super) struct Bucket {
    tokens: TokenBucket,
    /// Whether this episode of slowing down has begun (and been announced).
    slowing: bool,
}

/// What to do with a message that just arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pace {
    /// Within the rate: read on.
    Go,
    /// Over it: read nothing more until `until`. `first` is set for the
    /// first such message of an episode, the one to tell the sender about.
    Wait { until: Instant, first: bool },
}

impl Bucket {
    pub(super) fn new(limit: RateLimit) -> Bucket {
        Bucket { tokens: TokenBucket::new(f64::from(limit.per_sec), f64::from(limit.burst)), slowing: false }
    }

    /// Takes a token for one message (which is handled either way: only
    /// reading the next one waits).
    pub(super) fn take(&mut self) -> Pace {
        match self.tokens.take() {
            None => {
                // An episode ends once the bucket is half full again, so a
                // flood is told once, not after every short lull in it.
                if self.tokens.half_full() {
                    self.slowing = false;
                }
                Pace::Go
            }
            Some(until) => Pace::Wait { until, first: !std::mem::replace(&mut self.slowing, true) },
        }
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

    #[tokio::test(start_paused = true)]
    async fn an_allowance_refills_with_time() {
        let mut allowance = TokenBucket::new(1.0 / 60.0, 2.0);
        assert!(allowance.try_take() && allowance.try_take());
        assert!(!allowance.try_take(), "spent");
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert!(allowance.try_take(), "one more a minute later");
        assert!(!allowance.is_full());
        tokio::time::sleep(Duration::from_secs(121)).await;
        assert!(allowance.is_full());
    }
}
