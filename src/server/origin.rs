//! Which names the server answers to, and which pages may open a WebSocket.
//!
//! A browser sends `Origin` on every WebSocket request, so checking it stops
//! other sites from opening sockets in a visitor's name. But comparing it
//! with the request's own `Host` is not enough: a page on `evil.example`
//! whose name is made to resolve to this server (DNS rebinding) sends
//! matching `Host` and `Origin`. So the server decides for itself which hosts
//! it is: the configured public origins (`--public-origin`), or, when none is
//! configured, only addresses (IP literals) and `localhost`, which no DNS
//! trick can point elsewhere. Requests for any other `Host` are refused, and
//! a WebSocket's `Origin` must be one of those, or listed in `--allowed-origins`.
//! Programs that send no `Origin` are not browsers acting for a visitor, and
//! are let through.

use std::net::IpAddr;

use axum::http::{HeaderMap, header};

pub(crate) struct OriginPolicy {
    /// `scheme://host[:port]`, lower case, as the server is reached.
    public: Vec<String>,
    /// Further origins whose pages may open WebSockets.
    allowed: Vec<String>,
}

fn normalise(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// The host part of an authority (`host`, `host:port`, `[v6]:port`).
fn hostname(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.rsplit_once(':').map_or(authority, |(host, _)| host)
}

/// Whether no DNS answer can make `authority` name another machine.
fn is_address(authority: &str) -> bool {
    let host = hostname(authority);
    host == "localhost" || host.parse::<IpAddr>().is_ok()
}

impl OriginPolicy {
    pub(crate) fn new(public: &[String], allowed: &[String]) -> OriginPolicy {
        let clean = |list: &[String]| list.iter().map(|o| normalise(o)).filter(|o| !o.is_empty()).collect();
        OriginPolicy { public: clean(public), allowed: clean(allowed) }
    }

    /// How the request's sender reaches this server (`scheme://host[:port]`),
    /// for absolute links such as a page's preview image.
    pub(crate) fn origin_of(&self, headers: &HeaderMap) -> Option<String> {
        let host = self.own_host(headers)?;
        let configured = self.public.iter().find(|o| o.split_once("://").is_some_and(|(_, a)| a == host));
        Some(configured.cloned().unwrap_or_else(|| format!("http://{host}")))
    }

    /// The `Host` of a request, lower case, if the server answers to it.
    fn own_host(&self, headers: &HeaderMap) -> Option<String> {
        let host = headers.get(header::HOST)?.to_str().ok()?.trim().to_ascii_lowercase();
        let ours = if self.public.is_empty() {
            is_address(&host)
        } else {
            self.public.iter().any(|o| o.split_once("://").is_some_and(|(_, authority)| authority == host))
        };
        ours.then_some(host)
    }

    /// Whether the request is for a host this server is.
    pub(crate) fn host_allowed(&self, headers: &HeaderMap) -> bool {
        self.own_host(headers).is_some()
    }

    /// Whether a WebSocket request comes from a page that may open one.
    pub(crate) fn allows_socket(&self, headers: &HeaderMap) -> bool {
        let Some(host) = self.own_host(headers) else { return false };
        let Some(origin) = headers.get(header::ORIGIN) else { return true };
        let Ok(origin) = origin.to_str() else { return false };
        let origin = normalise(origin);
        if self.allowed.contains(&origin) || self.public.contains(&origin) {
            return true;
        }
        // Without configured public origins: a page served by this very host.
        self.public.is_empty() && [format!("http://{host}"), format!("https://{host}")].contains(&origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        if let Some(origin) = origin {
            h.insert(header::ORIGIN, origin.parse().unwrap());
        }
        h
    }

    #[test]
    fn without_public_origins_only_addresses_are_ours() {
        let policy = OriginPolicy::new(&[], &[]);
        for host in ["127.0.0.1:3000", "localhost:3000", "[::1]:3000", "192.168.1.20:3000"] {
            assert!(policy.host_allowed(&headers(host, None)), "{host}");
            let origin = format!("http://{host}");
            assert!(policy.allows_socket(&headers(host, Some(&origin))), "{host}");
        }
        // DNS rebinding: a name that resolves here, with a matching Origin.
        let rebound = headers("evil.example:3000", Some("http://evil.example:3000"));
        assert!(!policy.host_allowed(&rebound));
        assert!(!policy.allows_socket(&rebound));
        // Another site's page, against our address.
        assert!(!policy.allows_socket(&headers("127.0.0.1:3000", Some("http://evil.example"))));
    }

    #[test]
    fn public_origins_name_the_server_exactly() {
        let policy = OriginPolicy::new(&["https://Board.example.com/".into()], &["https://embed.example".into()]);
        let ours = headers("board.example.com", Some("https://board.example.com"));
        assert!(policy.host_allowed(&ours) && policy.allows_socket(&ours));
        let embedded = headers("board.example.com", Some("https://embed.example"));
        assert!(policy.allows_socket(&embedded), "an extra allowed origin");
        assert!(!policy.host_allowed(&headers("127.0.0.1:3000", None)), "only the public name");
        assert!(!policy.allows_socket(&headers("board.example.com", Some("http://board.example.com"))), "scheme too");
        assert!(policy.allows_socket(&headers("board.example.com", None)), "a program, not a browser");
    }
}
