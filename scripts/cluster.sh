#!/usr/bin/env bash
# Runs Sketchboard as two nodes on one Redis behind HAProxy, at
# http://localhost:3000 (docs/operations.md, "Several nodes on one Redis").
# Redis keeps its files in data/redis/ (append-only, fsync on every write);
# each node keeps its own SQLite file in data/. Installs what is missing
# (Redis and HAProxy from Debian) and builds first. Ctrl-C stops everything;
# so does any one of them stopping.
#
#   scripts/cluster.sh             # debug build
#   scripts/cluster.sh --release   # release build
# Ports: SB_LB_ADDR (127.0.0.1:3000), SB_REDIS_PORT (6390), SB_NODE_PORTS ("3010 3011").
set -euo pipefail
cd "$(dirname "$0")/.."

release=()
profile=debug
for arg in "$@"; do
  case "$arg" in
    --release) release=(--release); profile=release ;;
    *) echo "usage: scripts/cluster.sh [--release]" >&2; exit 2 ;;
  esac
done
scripts/setup.sh --cluster "${release[@]}"
export PATH="$PWD/tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.cargo/bin:/usr/sbin:$PATH"
cargo leptos build "${release[@]}"

lb=${SB_LB_ADDR:-127.0.0.1:3000}
redis_port=${SB_REDIS_PORT:-6390}
read -r port_a port_b <<<"${SB_NODE_PORTS:-3010 3011}"
mkdir -p data/redis

pids=()
stop() {
  trap - EXIT INT TERM
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

# Acknowledged means on Redis's disk: append-only with fsync on every write,
# and never evict a key to make room (docs/operations.md says what this promises).
redis-server --bind 127.0.0.1 --port "$redis_port" --dir data/redis --appendonly yes --appendfsync always \
  --save "" --maxmemory-policy noeviction &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

# The server binary reads the site's place and file names from LEPTOS_* (cargo-leptos sets them when it runs it).
export LEPTOS_OUTPUT_NAME=sketchboard LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_HASH_FILES=true
for node in "a $port_a" "b $port_b"; do
  read -r name port <<<"$node"
  "target/$profile/sketchboard" --addr "127.0.0.1:$port" --database-url "sqlite://data/node-$name.db" \
    --redis-url "redis://127.0.0.1:$redis_port" --trusted-proxies 127.0.0.1 &
  pids+=($!)
done

SB_LB_ADDR=$lb SB_NODE_A=127.0.0.1:$port_a SB_NODE_B=127.0.0.1:$port_b haproxy -db -f deploy/haproxy.cfg &
pids+=($!)
echo "Sketchboard: http://${lb/127.0.0.1/localhost} (nodes on ports $port_a and $port_b, Redis on $redis_port)"
wait -n
