//! `docs/protocol.md` keeps up with the protocol: every error code and every
//! close code the protocol defines is documented there.

use sketchboard_core::protocol::{ErrorCode, close};

const PROTOCOL_MD: &str = include_str!("../../docs/protocol.md");

#[test]
fn every_error_code_is_documented() {
    let missing: Vec<&str> =
        ErrorCode::ALL.iter().map(|c| c.as_str()).filter(|code| !PROTOCOL_MD.contains(&format!("`{code}`"))).collect();
    assert!(missing.is_empty(), "docs/protocol.md does not mention {missing:?}");
}

#[test]
fn every_close_code_is_documented() {
    let missing: Vec<u16> =
        close::ALL.iter().copied().filter(|code| !PROTOCOL_MD.contains(&format!("| {code} |"))).collect();
    assert!(missing.is_empty(), "docs/protocol.md has no row for close codes {missing:?}");
}
