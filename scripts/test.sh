#!/usr/bin/env bash
# Runs every test: the Rust unit, property and integration tests of the whole
# workspace (the app, its shared core, the load generator), then the Playwright
# tests in Debian's Chromium against a real server on a free port with a
# scratch database, then measures the release bundle as served (failing only
# over its budget). Installs whatever is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --tests
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.cargo/bin:$PATH"

echo "== Rust tests (cargo test --workspace) =="
# The flags cargo-leptos gives its own debug builds, so the browser tests'
# server build below reuses what this one compiled.
RUSTFLAGS="--cfg erase_components" cargo test --workspace --no-default-features --features sketchboard/ssr

echo "== Browser tests (cargo leptos end-to-end) =="
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}
port=$(free_port)
# The live-reload port too, so a `cargo leptos watch` running alongside does not clash.
LEPTOS_RELOAD_PORT="$(free_port)" \
  LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  BASE_URL="http://127.0.0.1:$port" \
  DATABASE_URL="sqlite://$scratch/e2e.db" \
  RUST_LOG="${RUST_LOG:-warn}" \
  cargo leptos end-to-end

echo "== The bundle as served (scripts/bundle-size.sh) =="
scripts/bundle-size.sh

echo "== all tests passed =="
