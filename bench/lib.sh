# Shared by the benchmark scripts (compare.sh, nodes.sh): sourced, not run.
# The machine is split in two: servers on core 0, the load generator on core 1.

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Thousands of sockets on both sides.
ulimit -n "$(ulimit -Hn)"
out=$(mktemp -d)

# The server binary; BIN=... runs another build (say, the landed code's, for a before and after).
sketchboard_node() { # sketchboard_node PORT DB LOG [FLAGS...]: starts a release node pinned to core 0
  local port=$1 db=$2 log=$3
  shift 3
  rm -f "$db" "$db-wal" "$db-shm"
  # One address plays every client, so its per-address caps are lifted.
  LEPTOS_OUTPUT_NAME=sketchboard LEPTOS_SITE_ROOT=target/site RUST_LOG=warn taskset -c 0 \
    "${BIN:-target/release/sketchboard}" --addr "127.0.0.1:$port" --database-url "sqlite://$db" "$@" \
    --max-connections-per-address 100000 --rooms-opened-per-minute 100000 --rooms-created-per-hour 100000 \
    >"$log" 2>&1 &
}
