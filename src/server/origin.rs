//! Which browser pages may open a WebSocket. Browsers always send `Origin` on
//! WebSocket requests, so a page on another site is refused (this stops
//! cross-site WebSocket hijacking); programs that send no `Origin` are not
//! browsers acting for a visitor, and are let through.

use axum::http::{HeaderMap, header};

pub(crate) struct OriginPolicy {
    allowed: Vec<String>,
}

impl OriginPolicy {
    pub(crate) fn new(allowed: &[String]) -> OriginPolicy {
        let allowed = allowed
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect();
        OriginPolicy { allowed }
    }

    pub(crate) fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else { return true };
        let Ok(origin) = origin.to_str() else { return false };
        let origin = origin.to_ascii_lowercase();
        if self.allowed.contains(&origin) {
            return true;
        }
        // Same origin: the Origin's host and port are the Host this request was sent to.
        let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_ascii_lowercase);
        matches!((authority, host), (Some(a), Some(h)) if a == h)
    }
}
