#!/usr/bin/env bash
# Runs Sketchboard as several nodes behind HAProxy, at http://localhost:3000
# (docs/operations.md, "Several nodes on Redis"): a Redis Cluster of six
# redis-server processes (three primaries, three replicas; their files in
# data/redis-cluster/, append-only with an fsync on every write), three nodes
# that acknowledge a change once a replica has it (--redis-replicas 1), each
# with its own SQLite file in data/, a PostgreSQL keeping the rooms' history
# (data/postgres/, made once with initdb; each room's latest 1000 changes stay
# in Redis: --history-url, --hot-tail), and HAProxy in front.
# `--one-redis` runs the earlier layout instead: one redis-server
# (data/redis/) and two nodes. Installs what is missing (Redis and HAProxy
# from Debian) and builds first. Ctrl-C stops everything; so does any one of
# them stopping. Running it again keeps the rooms (the cluster is made once).
#
#   scripts/cluster.sh                # debug build, Redis Cluster
#   scripts/cluster.sh --release      # release build
#   scripts/cluster.sh --one-redis    # one Redis, two nodes
# Ports: SB_LB_ADDR (127.0.0.1:3000), SB_NODE_PORTS ("3010 3011 3012"; two with
# --one-redis), SB_REDIS_PORTS ("6390 … 6395"; the first alone with --one-redis), SB_PG_PORT (6400).
set -euo pipefail
cd "$(dirname "$0")/.."

release=()
profile=debug
one_redis=0
for arg in "$@"; do
  case "$arg" in
    --release) release=(--release); profile=release ;;
    --one-redis) one_redis=1 ;;
    *) echo "usage: scripts/cluster.sh [--release] [--one-redis]" >&2; exit 2 ;;
  esac
done
scripts/setup.sh --cluster "${release[@]}"
export PATH="$PWD/tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.cargo/bin:/usr/sbin:$PATH"
cargo leptos build "${release[@]}"

lb=${SB_LB_ADDR:-127.0.0.1:3000}
read -r -a redis_ports <<<"${SB_REDIS_PORTS:-6390 6391 6392 6393 6394 6395}"
if [[ $one_redis == 1 ]]; then
  read -r -a node_ports <<<"${SB_NODE_PORTS:-3010 3011}"
else
  read -r -a node_ports <<<"${SB_NODE_PORTS:-3010 3011 3012}"
fi

pids=()
pg_stop=()
stop() {
  trap - EXIT INT TERM
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  if (( ${#pg_stop[@]} )); then "${pg_stop[@]}" >/dev/null 2>&1 || true; fi
}
trap stop EXIT INT TERM

# Acknowledged means on Redis's disk: append-only with fsync on every write,
# and never evict a key to make room (docs/operations.md says what this promises).
redis() {
  local port=$1 dir=$2; shift 2
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --appendonly yes --appendfsync always \
    --save "" --maxmemory-policy noeviction "$@" &
  pids+=($!)
  for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
}

if [[ $one_redis == 1 ]]; then
  redis "${redis_ports[0]}" data/redis
  redis_url="redis://127.0.0.1:${redis_ports[0]}"
  replicas=0
else
  for port in "${redis_ports[@]}"; do
    redis "$port" "data/redis-cluster/$port" --cluster-enabled yes --cluster-config-file nodes.conf \
      --cluster-node-timeout 2000
  done
  # Made once: afterwards each server finds the others in its nodes.conf.
  if ! redis-cli -p "${redis_ports[0]}" cluster info | grep -q 'cluster_known_nodes:6'; then
    redis-cli --cluster create $(printf '127.0.0.1:%s ' "${redis_ports[@]}") --cluster-replicas 1 --cluster-yes
  fi
  # Every server agreeing on who holds which slot, before a node asks.
  for _ in $(seq 1 100); do
    redis-cli --cluster check "127.0.0.1:${redis_ports[0]}" >/dev/null 2>&1 && break
    sleep 0.2
  done
  # Every replica in step with its primary (until then nothing can be acknowledged).
  for port in "${redis_ports[@]}"; do
    for _ in $(seq 1 100); do
      redis-cli -p "$port" info replication | grep -qE '^role:master|^master_link_status:up' && break
      sleep 0.2
    done
  done
  redis_url=$(printf 'redis://127.0.0.1:%s,' "${redis_ports[@]}")
  redis_url=${redis_url%,}
  replicas=1
fi

# The rooms' history: a PostgreSQL of its own in data/postgres (made once). It
# refuses to run as root, so as root it runs as the postgres user.
history=()
if [[ $one_redis == 0 ]]; then
  pg_port=${SB_PG_PORT:-6400}
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  as_pg=()
  if [[ $(id -u) == 0 ]]; then as_pg=(runuser -u postgres --); fi
  mkdir -p data/postgres
  if [[ $(id -u) == 0 ]]; then chown postgres data/postgres; chmod 755 data; fi
  if [[ ! -f data/postgres/PG_VERSION ]]; then
    "${as_pg[@]}" "$pg_bin/initdb" -D data/postgres -U postgres --auth=trust >/dev/null
  fi
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$PWD/data/postgres" -l "$PWD/data/postgres/server.log" -w \
    -o "-p $pg_port -k $PWD/data/postgres -c listen_addresses=127.0.0.1" start >/dev/null
  pg_stop=("${as_pg[@]}" "$pg_bin/pg_ctl" -D "$PWD/data/postgres" -m fast stop)
  history=(--history-url "postgresql://postgres@127.0.0.1:$pg_port/postgres")
fi

# The server binary reads the site's place and file names from LEPTOS_* (cargo-leptos sets them when it runs it).
export LEPTOS_OUTPUT_NAME=sketchboard LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_HASH_FILES=true
names=(a b c)
lb_nodes=()
for i in "${!node_ports[@]}"; do
  name=${names[$i]} port=${node_ports[$i]}
  "target/$profile/sketchboard" --addr "127.0.0.1:$port" --database-url "sqlite://data/node-$name.db" \
    --redis-url "$redis_url" --redis-replicas "$replicas" --trusted-proxies 127.0.0.1 "${history[@]}" &
  pids+=($!)
  lb_nodes+=("SB_NODE_${name^^}=127.0.0.1:$port")
done

env SB_LB_ADDR="$lb" "${lb_nodes[@]}" haproxy -db -f deploy/haproxy.cfg &
pids+=($!)
echo "Sketchboard: http://${lb/127.0.0.1/localhost} (nodes on ports ${node_ports[*]}; Redis on ${redis_url//redis:\/\/127.0.0.1:/}${history:+; history in PostgreSQL on ${pg_port}})"
wait -n
