#!/usr/bin/env bash
# Runs Sketchboard at http://localhost:3000 on the embedded SQLite store
# (./data/sketchboard.db unless DATABASE_URL says otherwise). Installs whatever
# tools are missing first. Extra arguments go to `cargo leptos serve`, e.g.
#   scripts/run.sh --release
set -euo pipefail
cd "$(dirname "$0")/.."

release=()
for arg in "$@"; do [[ "$arg" == "--release" ]] && release=(--release); done
scripts/setup.sh "${release[@]}"
# wasm-opt for release builds comes from tools/ (see scripts/setup.sh).
export PATH="$PWD/tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.cargo/bin:$PATH"
export DATABASE_URL="${DATABASE_URL:-sqlite://data/sketchboard.db}"
exec cargo leptos serve "$@"
