#!/usr/bin/env bash
# Redis memory for one room of 100,000 changes, its whole log in Redis against
# Redis keeping a hot tail of 1000 with the rest archived to PostgreSQL
# (docs/benchmarks.md, "One owner per room, and history in PostgreSQL").
# Starts a throwaway Redis (as the docs ask: append-only, fsync always) and
# PostgreSQL (as the postgres user when root) on loopback ports.
#
#   bench/archive-memory.sh [CHANGES]
set -euo pipefail
cd "$(dirname "$0")/.."
changes=${1:-100000}
out=$(mktemp -d)
redis_port=3970 pg_port=3971
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=()
if [[ $(id -u) == 0 ]]; then as_pg=(runuser -u postgres --); chown -R postgres "$out"; chmod 755 "$out"; fi
redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$out" --appendonly yes --appendfsync always --save "" \
  --maxmemory-policy noeviction >"$out/redis.log" 2>&1 &
redis=$!
"${as_pg[@]}" "$bin/initdb" -D "$out/pg" -U postgres --auth=trust >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$out/pg" -l "$out/pg.log" -w -o "-p $pg_port -k $out/pg -c listen_addresses=127.0.0.1" start >/dev/null
trap '"${as_pg[@]}" "$bin/pg_ctl" -D "$out/pg" -m fast stop >/dev/null; kill $redis; rm -rf "$out"' EXIT
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done
cargo run --release -q --example archive_memory --features ssr -- \
  "redis://127.0.0.1:$redis_port" "postgresql://postgres@127.0.0.1:$pg_port/postgres" "$changes"
