//! Per-address fairness: one address (a household, a script) must not be
//! able to take what everyone shares. Each client address has, at most:
//!
//! - `max_connections` WebSockets open at once (more: HTTP 429);
//! - `rooms_opened_per_minute` rooms loaded that were not loaded already
//!   (loading costs memory and a room slot; more: `too_many_rooms`);
//! - `rooms_created_per_hour` rooms stored for the first time (they stay on
//!   disk and in the lobby; more: the first change is refused, `too_many_rooms`),
//!   and that counts every room whose first stored row is its access (a new
//!   private room, a view-only link asked for a room never used): HTTP 429;
//! - `MISSED_LOOKUPS_PER_SEC` view-only links that open nothing (each a read
//!   of the store; a script guessing tokens gets HTTP 429 without one);
//! - `PRESENCE_BYTES_PER_SEC` of presence (names, pointers, selections)
//!   passed on from all its connections together (more: what they say is
//!   held back, the latest of each kind, until the address is within it;
//!   their changes are never held).
//!
//! An IPv6 client counts by its /64, the block one household or one server
//! gets, so a script cannot rotate through addresses it owns. Behind a reverse
//! proxy every connection comes from the proxy, so the client's address is
//! taken from `X-Forwarded-For`, but only when the proxy is one configured
//! as trusted (a client can write that header itself).

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::HeaderMap;

use super::rate::TokenBucket;

/// Addresses remembered before the ones with nothing to remember are swept.
const SWEEP_AT: usize = 50_000;
/// View-only links that open nothing, one address may try a second on
/// average (a person mistypes a link now and then, a script guesses thousands).
const MISSED_LOOKUPS_PER_SEC: f64 = 1.0;
/// And at most this many at once.
const MISSED_LOOKUPS_BURST: f64 = 30.0;
/// Presence bytes one address's connections may send together, on average:
/// four people at one address, each dragging a large selection around.
pub(crate) const PRESENCE_BYTES_PER_SEC: f64 = 256.0 * 1024.0;
/// And at most this many at once; an address's presence is held back at
/// most as long as this takes to refill (4 s).
const PRESENCE_BYTES_BURST: f64 = 1024.0 * 1024.0;

/// The per-address limits.
#[derive(Debug, Clone, Copy)]
pub struct AddressLimits {
    pub max_connections: usize,
    pub rooms_opened_per_minute: u32,
    pub rooms_created_per_hour: u32,
}

/// A client address as the limits count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Network(IpAddr);

impl Network {
    pub fn of(ip: IpAddr) -> Network {
        match ip {
            IpAddr::V4(v4) => Network(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Network(IpAddr::V4(v4)),
                None => {
                    let s = v6.segments();
                    Network(IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0)))
                }
            },
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// The client's address: the peer's, or, when the peer is a trusted proxy,
/// the nearest address in `X-Forwarded-For` that is not one.
pub(super) fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> IpAddr {
    let peer = peer.ip().to_canonical();
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
    let hops: Vec<IpAddr> =
        forwarded.flat_map(|v| v.split(',')).filter_map(|hop| hop.trim().parse::<IpAddr>().ok()).collect();
    hops.into_iter().rev().map(|ip| ip.to_canonical()).find(|ip| !trusted_proxies.contains(ip)).unwrap_or(peer)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unfair {
    #[error("{0} has {1} connections open, as many as one address may")]
    Connections(Network, usize),
    #[error("{0} opened {1} rooms in the last minute, as many as one address may; try again in a minute")]
    RoomsOpened(Network, u32),
    #[error("{0} created {1} rooms in the last hour, as many as one address may; try again later")]
    RoomsCreated(Network, u32),
    #[error("{0} tried too many view-only links that open nothing; try again in a minute")]
    MissedLookups(Network),
}

pub struct Fairness {
    limits: AddressLimits,
    table: Mutex<HashMap<Network, PerAddress>>,
}

struct PerAddress {
    connections: usize,
    opened: TokenBucket,
    created: TokenBucket,
    /// View-only links tried that opened nothing.
    missed: TokenBucket,
    /// Presence bytes read from its connections.
    presence: TokenBucket,
}

/// One of an address's connections, counted until dropped.
pub struct Permit {
    fairness: Arc<Fairness>,
    network: Network,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(entry) = self.fairness.table().get_mut(&self.network) {
            entry.connections = entry.connections.saturating_sub(1);
        }
    }
}

impl Permit {
    pub fn network(&self) -> Network {
        self.network
    }

    /// Counts `bytes` of presence read from this connection against its
    /// address's allowance; when the address is over it, until when its
    /// presence is held back.
    pub(crate) fn presence(&self, bytes: usize) -> Option<tokio::time::Instant> {
        self.fairness.with(self.network, |a, _| a.presence.take_owing_at_most(bytes as f64, PRESENCE_BYTES_BURST))
    }
}

impl Fairness {
    pub fn new(limits: AddressLimits) -> Arc<Fairness> {
        Arc::new(Fairness { limits, table: Mutex::new(HashMap::new()) })
    }

    fn table(&self) -> MutexGuard<'_, HashMap<Network, PerAddress>> {
        // Every update is a single field: a panic elsewhere cannot leave it half done.
        self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn with<T>(&self, network: Network, f: impl FnOnce(&mut PerAddress, &AddressLimits) -> T) -> T {
        let mut table = self.table();
        if table.len() >= SWEEP_AT && !table.contains_key(&network) {
            table.retain(|_, a| {
                a.connections > 0
                    || !a.opened.is_full()
                    || !a.created.is_full()
                    || !a.missed.is_full()
                    || !a.presence.is_full()
            });
        }
        let limits = &self.limits;
        let entry = table.entry(network).or_insert_with(|| PerAddress {
            connections: 0,
            opened: TokenBucket::new(
                f64::from(limits.rooms_opened_per_minute) / 60.0,
                limits.rooms_opened_per_minute.into(),
            ),
            created: TokenBucket::new(
                f64::from(limits.rooms_created_per_hour) / 3600.0,
                limits.rooms_created_per_hour.into(),
            ),
            missed: TokenBucket::new(MISSED_LOOKUPS_PER_SEC, MISSED_LOOKUPS_BURST),
            presence: TokenBucket::new(PRESENCE_BYTES_PER_SEC, PRESENCE_BYTES_BURST),
        });
        f(entry, limits)
    }

    /// Counts a new connection from `ip`, if it may have one more.
    pub fn connect(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Unfair> {
        let network = Network::of(ip);
        self.with(network, |a, limits| {
            if a.connections >= limits.max_connections {
                return Err(Unfair::Connections(network, limits.max_connections));
            }
            a.connections += 1;
            Ok(())
        })?;
        Ok(Permit { fairness: self.clone(), network })
    }

    /// Whether `network` may load one more room now.
    pub fn open_room(&self, network: Network) -> Result<(), Unfair> {
        self.with(network, |a, limits| {
            a.opened.try_take().then_some(()).ok_or(Unfair::RoomsOpened(network, limits.rooms_opened_per_minute))
        })
    }

    /// Whether `network` may look up a view-only link now: not while it has
    /// used up its allowance of links that opened nothing.
    pub(crate) fn may_look_up(&self, network: Network) -> Result<(), Unfair> {
        self.with(network, |a, _| a.missed.has_token().then_some(()).ok_or(Unfair::MissedLookups(network)))
    }

    /// `network` looked up a view-only link that opens nothing.
    pub(crate) fn missed_lookup(&self, network: Network) {
        self.with(network, |a, _| a.missed.try_take());
    }

    /// Whether `network` may store one more new room now.
    pub fn create_room(&self, network: Network) -> Result<(), Unfair> {
        self.with(network, |a, limits| {
            a.created.try_take().then_some(()).ok_or(Unfair::RoomsCreated(network, limits.rooms_created_per_hour))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: AddressLimits =
        AddressLimits { max_connections: 2, rooms_opened_per_minute: 3, rooms_created_per_hour: 1 };

    #[test]
    fn connections_are_counted_per_address_and_freed_when_dropped() {
        let fairness = Fairness::new(LIMITS);
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let (a, b) = (fairness.connect(ip).unwrap(), fairness.connect(ip).unwrap());
        assert!(matches!(fairness.connect(ip), Err(Unfair::Connections(_, 2))));
        assert!(fairness.connect("203.0.113.8".parse().unwrap()).is_ok(), "another address is not affected");
        drop(a);
        assert!(fairness.connect(ip).is_ok(), "a place freed");
        drop(b);
    }

    #[test]
    fn an_ipv6_household_is_one_address() {
        let one = Network::of("2001:db8:1:2::1".parse().unwrap());
        assert_eq!(one, Network::of("2001:db8:1:2:ffff::9".parse().unwrap()));
        assert_ne!(one, Network::of("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(Network::of("::ffff:192.0.2.1".parse().unwrap()), Network::of("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn rooms_opened_and_created_draw_on_allowances() {
        let fairness = Fairness::new(LIMITS);
        let net = Network::of("198.51.100.1".parse().unwrap());
        for _ in 0..3 {
            assert!(fairness.open_room(net).is_ok());
        }
        assert!(matches!(fairness.open_room(net), Err(Unfair::RoomsOpened(_, 3))));
        assert!(fairness.create_room(net).is_ok());
        assert!(matches!(fairness.create_room(net), Err(Unfair::RoomsCreated(_, 1))));
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "192.0.2.9, 10.0.0.2".parse().unwrap());
        let proxy: SocketAddr = "10.0.0.1:4000".parse().unwrap();
        let trusted: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()];
        assert_eq!(client_ip(proxy, &headers, &trusted), "192.0.2.9".parse::<IpAddr>().unwrap());
        assert_eq!(client_ip(proxy, &headers, &[]), proxy.ip(), "an untrusted peer's header is ignored");
        let direct: SocketAddr = "198.51.100.4:5000".parse().unwrap();
        assert_eq!(client_ip(direct, &headers, &trusted), direct.ip());
    }
}
