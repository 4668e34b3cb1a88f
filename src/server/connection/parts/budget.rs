//! The server's room for changes under way in parts, shared by every
//! connection, and fair under contention:
//!
//! - **earned by parts arriving**: a change holds room for the parts it has
//!   sent, weighed by what they hold, and for the one it sends next (a
//!   message's worth), no more: a "64-part" change that sends one tiny part
//!   holds little over one message;
//! - **one address, a quarter**: what one address holds at once is bounded;
//! - **stalled changes give way**: when a part finds no room, changes whose
//!   next part has not come for `STALL` are abandoned to make it (the address
//!   holding the most first), and their connections are told at once;
//! - **stalling costs**: an address whose changes keep being abandoned for
//!   holding room without sending (given way, or out of time) waits longer
//!   and longer before it may start another, while an honest one that loses a
//!   change now and then waits half a second. (A change its own client
//!   interrupts frees its room at once and costs nothing.)
//!
//! A change that still finds no room is refused `busy`; its client sends it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::server::fairness::Network;

/// A change under way whose next part has not come for this long gives its
/// room up to one that needs it.
pub(super) const STALL: Duration = Duration::from_secs(1);
/// An address's abandoned changes count half as much after this long.
const PENALTY_HALF_LIFE: Duration = Duration::from_secs(30);
/// The wait after one abandoned change; it doubles with each one more.
const PENALTY_BASE: Duration = Duration::from_millis(500);
/// The longest wait.
const PENALTY_MAX: Duration = Duration::from_secs(30);
/// Addresses' penalties kept before the faded ones are swept.
const PENALTIES_KEPT: usize = 10_000;

/// Why a change found no room.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum NoRoom {
    /// Everything is held by changes that are arriving.
    Full,
    /// The address holds its share.
    Share,
    /// The address abandoned changes lately: it waits this long yet.
    Penalised(Duration),
    /// The change was abandoned to make room for another.
    Evicted,
}

impl NoRoom {
    pub(super) fn why(&self) -> String {
        match self {
            NoRoom::Full => {
                "the server is taking in as many changes in parts as it can; send this one again shortly".into()
            }
            NoRoom::Share => {
                "this address has as many changes in parts under way as one address may; send this one again shortly"
                    .into()
            }
            NoRoom::Penalised(wait) => format!(
                "this address abandoned changes in parts lately: it may start another in {:.1} s",
                wait.as_secs_f64()
            ),
            NoRoom::Evicted => "its next part did not come while others needed the room it held".into(),
        }
    }
}

/// The server's room for changes in parts; cheap to clone.
#[derive(Clone)]
pub(crate) struct PartsBudget {
    ledger: Arc<Mutex<Ledger>>,
}

struct Ledger {
    free: usize,
    per_address: usize,
    held: HashMap<Network, usize>,
    live: HashMap<u64, Live>,
    next_id: u64,
    penalties: HashMap<Network, Penalty>,
}

/// One change's room.
struct Live {
    network: Network,
    bytes: usize,
    /// When its last part came.
    progressed: Instant,
    /// Told when it is abandoned to make room.
    evicted: Arc<Notify>,
}

/// An address's abandoned changes, fading.
#[derive(Clone, Copy)]
struct Penalty {
    weight: f64,
    at: Instant,
}

impl Penalty {
    fn weight_at(&self, now: Instant) -> f64 {
        let halves = now.duration_since(self.at).as_secs_f64() / PENALTY_HALF_LIFE.as_secs_f64();
        self.weight * 0.5f64.powf(halves)
    }

    /// How long yet the address must wait before it starts another change.
    fn wait(&self, now: Instant) -> Duration {
        let weight = self.weight_at(self.at);
        if weight < 1.0 {
            return Duration::ZERO;
        }
        let wait = PENALTY_BASE.mul_f64(2f64.powf((weight - 1.0).min(16.0))).min(PENALTY_MAX);
        (self.at + wait).saturating_duration_since(now)
    }
}

/// Room held for one change, given back when dropped: once the change is
/// whole and the room has taken it, or abandoned.
#[derive(Debug)]
pub(crate) struct Reserved {
    id: u64,
    network: Network,
    evicted: Arc<Notify>,
    ledger: Arc<Mutex<Ledger>>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("free", &self.free).field("live", &self.live.len()).finish()
    }
}

impl Reserved {
    /// Ready once the change was abandoned to make room for another.
    pub(super) async fn evicted(&self) {
        self.evicted.notified().await;
    }

    /// Whether it was (the room it held is gone).
    pub(super) fn is_evicted(&self) -> bool {
        !lock(&self.ledger).live.contains_key(&self.id)
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        lock(&self.ledger).release(self.id);
    }
}

fn lock(ledger: &Mutex<Ledger>) -> MutexGuard<'_, Ledger> {
    // Every update leaves the ledger consistent; a panic elsewhere does not make it unusable.
    ledger.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl PartsBudget {
    pub(crate) fn new(bytes: usize) -> PartsBudget {
        let ledger = Ledger {
            free: bytes,
            per_address: bytes / 4,
            held: HashMap::new(),
            live: HashMap::new(),
            next_id: 1,
            penalties: HashMap::new(),
        };
        PartsBudget { ledger: Arc::new(Mutex::new(ledger)) }
    }

    /// Room for a new change from `network`: `bytes` (its first part, and room for the next).
    pub(super) fn open(&self, network: Network, bytes: usize) -> Result<Reserved, NoRoom> {
        let mut ledger = lock(&self.ledger);
        let now = Instant::now();
        if let Some(penalty) = ledger.penalties.get(&network) {
            let wait = penalty.wait(now);
            if !wait.is_zero() {
                return Err(NoRoom::Penalised(wait));
            }
        }
        ledger.make_room(network, bytes, None, now)?;
        let id = ledger.next_id;
        ledger.next_id += 1;
        let evicted = Arc::new(Notify::new());
        ledger.live.insert(id, Live { network, bytes, progressed: now, evicted: evicted.clone() });
        Ok(Reserved { id, network, evicted, ledger: self.ledger.clone() })
    }

    /// `bytes` more for a change whose part just came.
    pub(super) fn grow(&self, reserved: &Reserved, bytes: usize) -> Result<(), NoRoom> {
        let mut ledger = lock(&self.ledger);
        let now = Instant::now();
        if !ledger.live.contains_key(&reserved.id) {
            return Err(NoRoom::Evicted);
        }
        ledger.make_room(reserved.network, bytes, Some(reserved.id), now)?;
        if let Some(live) = ledger.live.get_mut(&reserved.id) {
            live.bytes += bytes;
            live.progressed = now;
        }
        Ok(())
    }

    /// A change of `network`'s ran out of time waiting for its next part: the
    /// address waits longer before its next.
    pub(super) fn abandoned(&self, network: Network) {
        lock(&self.ledger).penalise(network, Instant::now());
    }

    /// Bytes free now.
    #[cfg(test)]
    pub(super) fn available(&self) -> usize {
        lock(&self.ledger).free
    }
}

impl Ledger {
    /// Takes `bytes` for `network` (for change `own`, if it has one), giving
    /// stalled changes' room up if need be.
    fn make_room(&mut self, network: Network, bytes: usize, own: Option<u64>, now: Instant) -> Result<(), NoRoom> {
        if self.held.get(&network).copied().unwrap_or(0) + bytes > self.per_address {
            return Err(NoRoom::Share);
        }
        while self.free < bytes {
            let stalled = self
                .live
                .iter()
                .filter(|(id, l)| Some(**id) != own && now.duration_since(l.progressed) >= STALL)
                .max_by_key(|(_, l)| (self.held.get(&l.network).copied().unwrap_or(0), now - l.progressed))
                .map(|(id, _)| *id);
            let Some(victim) = stalled else { return Err(NoRoom::Full) };
            if let Some(gone) = self.live.get(&victim) {
                gone.evicted.notify_one();
                let network = gone.network;
                self.penalise(network, now);
            }
            self.release(victim);
        }
        self.free -= bytes;
        *self.held.entry(network).or_default() += bytes;
        Ok(())
    }

    fn release(&mut self, id: u64) {
        let Some(gone) = self.live.remove(&id) else { return };
        self.free += gone.bytes;
        if let Some(held) = self.held.get_mut(&gone.network) {
            *held = held.saturating_sub(gone.bytes);
            if *held == 0 {
                self.held.remove(&gone.network);
            }
        }
    }

    fn penalise(&mut self, network: Network, now: Instant) {
        if self.penalties.len() >= PENALTIES_KEPT {
            self.penalties.retain(|_, p| p.weight_at(now) >= 0.1);
        }
        let weight = self.penalties.get(&network).map_or(0.0, |p| p.weight_at(now));
        self.penalties.insert(network, Penalty { weight: weight + 1.0, at: now });
    }
}
