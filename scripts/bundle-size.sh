#!/usr/bin/env bash
# The bundle as served, by the server built and started exactly as the README
# says: the README's release build (precompressed, hashed file names), then
# the built binary with the README's three variables and no others (so a
# server that cannot find its own files fails here). Downloads a room page and
# everything it names (HTML, JS, WebAssembly, CSS) as a browser that accepts
# brotli would, prints each file's bytes on the wire and the total, and fails
# when a file is missing or the total is over the budget in docs/benchmarks.md.
# A measurement, not a race: sizes do not flake.
#
#   scripts/bundle-size.sh            # build, serve, measure
#   BUDGET_BYTES=250000 scripts/bundle-size.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BUDGET_BYTES=${BUDGET_BYTES:-250000}
scripts/setup.sh --release >/dev/null
export PATH="$PWD/tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.cargo/bin:$PATH"

# Its own site folder (the value of the README's LEPTOS_SITE_ROOT), so the
# debug site the browser tests use stays as it is.
site=target/site-release
echo "== Release bundle (cargo leptos build --release --precompress) =="
LEPTOS_SITE_ROOT=$site cargo leptos build --release --precompress 2>&1 | grep -vE '^\s*(Compiling|Checking)' || true
[[ -x target/release/sketchboard ]] || { echo "no release server was built" >&2; exit 1; }

scratch=$(mktemp -d)
port=$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
# The README's run line: only these three variables (any other LEPTOS_* of the
# caller's is dropped), so the binary must know how it was built.
leptos_vars=$(env | grep -oE '^LEPTOS_[A-Z_]+' || true)
# shellcheck disable=SC2086
env ${leptos_vars:+$(printf -- '-u %s ' $leptos_vars)} RUST_LOG=warn \
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=$site DATABASE_URL="sqlite://$scratch/size.db" \
  target/release/sketchboard &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$scratch"' EXIT
for _ in $(seq 1 100); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "127.0.0.1:$port/healthz" >/dev/null || { echo "the built server did not start as the README runs it" >&2; exit 1; }

base="http://127.0.0.1:$port"
# Bytes on the wire for one URL, as a brotli-accepting browser gets it: the
# body as sent (compressed), plus its encoding and caching headers.
fetch() {
  curl -s -o /dev/null -H 'Accept-Encoding: br, gzip' \
    -w '%{size_download} %{http_code} %header{content-encoding} %header{cache-control}\n' "$base$1"
}
page=/r/bundle-size-check
html=$(curl -s -H 'Accept-Encoding: identity' "$base$page")
assets=$( (grep -oE '/pkg/[A-Za-z0-9._-]+\.(js|wasm|css)' <<<"$html"; grep -oE '/favicon\.ico' <<<"$html") | sort -u)
[[ -n "$assets" ]] || { echo "the room page names no assets" >&2; exit 1; }

total=0
printf '%-52s %9s  %-9s %s\n' "file" "bytes" "encoding" "cache-control"
for path in "$page" $assets; do
  read -r bytes status encoding cache < <(fetch "$path")
  [[ "$status" == 200 ]] || { echo "$path: HTTP $status" >&2; exit 1; }
  printf '%-52s %9s  %-9s %s\n' "$path" "$bytes" "${encoding:--}" "${cache:--}"
  total=$((total + bytes))
done
printf '%-52s %9s  (budget %s)\n' "first visit to a room, as served" "$total" "$BUDGET_BYTES"
if (( total > BUDGET_BYTES )); then
  echo "over budget by $((total - BUDGET_BYTES)) bytes" >&2
  exit 1
fi
