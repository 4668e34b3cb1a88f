#!/usr/bin/env bash
# Sketchboard on one node with SQLite, one node on Redis, and two nodes on one
# Redis (every room's members split between them, or each room's members on
# one node, as a load balancer routing by room sends them), and two nodes
# routed by room on a Redis Cluster of three primaries and three replicas
# acknowledging a change once a replica has it (--redis-replicas 1), on the
# same open-loop load, interleaved round by round (docs/benchmarks.md,
# "Several nodes"). The
# server side (the nodes and Redis) is pinned to core 0, the generator to
# core 1; Redis runs as the docs ask (append-only, fsync on every write).
# "Server CPU" adds up the nodes and Redis; Redis's own share is printed too.
#
#   bench/nodes.sh [ROUNDS]     # default 3; prints a Markdown table of medians
#   CONFIGS="byroom cluster" bench/nodes.sh 1   # only some deployments
#   CONFIGS=archived HOT_TAIL=200 bench/nodes.sh 1  # one node on Redis + PostgreSQL (--history-url)
#   CONFIGS="split3 byroom3" bench/nodes.sh 3  # three nodes with PostgreSQL, rooms split or routed
#   CONFIGS=cluster LOADS="rooms100 rooms400 rooms1600" bench/nodes.sh 2
#                                 # rooms per cluster: N rooms of 10 members, 20,000 changes/s in all
# (PostgreSQL's CPU, every postgres process, counts in the server CPU where it runs.)
#
# Needs the release binaries and Debian's redis-server:
#   cargo build --release -p sketchboard -p sketchboard-loadgen --features sketchboard/ssr
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-3}
redis_port=3940
ports=(3941 3942 3943)
pg_port=3960 pg_stop=
# What the `archived` deployment keeps of each room in Redis (--hot-tail).
HOT_TAIL=${HOT_TAIL:-200}
pids=()

ticks() { # ticks PID: utime + stime of a process
  awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

cluster_ports=(3950 3951 3952 3953 3954 3955)

redis_memory() { # bytes of data Redis holds (a cluster's: every server's, replicas too)
  local port total=0
  for port in "${redis_ports[@]}"; do
    total=$(( total + $(redis-cli -p "$port" info memory | awk -F: '/^used_memory:/ { print $2 + 0 }') ))
  done
  echo "$total"
}

start_cluster() { # six redis-server on core 0 made into a cluster: three primaries, three replicas
  redis_pids=() redis_ports=("${cluster_ports[@]}")
  local port
  for port in "${cluster_ports[@]}"; do
    rm -rf "$out/redis-$port" && mkdir -p "$out/redis-$port"
    taskset -c 0 redis-server --bind 127.0.0.1 --port "$port" --dir "$out/redis-$port" --appendonly yes \
      --appendfsync always --save "" --maxmemory-policy noeviction --cluster-enabled yes \
      --cluster-config-file nodes.conf --cluster-node-timeout 2000 >"$out/redis-$port.log" 2>&1 &
    redis_pids+=($!)
  done
  for port in "${cluster_ports[@]}"; do until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done; done
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${cluster_ports[@]}") --cluster-replicas 1 --cluster-yes \
    >"$out/cluster-create.log"
  until redis-cli --cluster check "127.0.0.1:${cluster_ports[0]}" >/dev/null 2>&1; do sleep 0.2; done
  # Every replica in step with its primary: until then nothing can be acknowledged.
  for port in "${cluster_ports[@]}"; do
    until redis-cli -p "$port" info replication | grep -qE '^role:master|^master_link_status:up'; do sleep 0.2; done
  done
  cluster_url=$(printf 'redis://127.0.0.1:%s,' "${cluster_ports[@]}")
  cluster_url=${cluster_url%,}
}

start_redis() {
  redis_ports=("$redis_port")
  rm -rf "$out/redis" && mkdir -p "$out/redis"
  taskset -c 0 redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$out/redis" --appendonly yes \
    --appendfsync always --save "" --maxmemory-policy noeviction >"$out/redis.log" 2>&1 &
  redis_pid=$!
  redis_pids=("$redis_pid")
  until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done
}

start_pg() { # a throwaway PostgreSQL on core 0 (as the postgres user: it refuses root), for --history-url
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  rm -rf "$out/pg" && mkdir -p "$out/pg" && chown -R postgres "$out/pg" && chmod 755 "$out"
  runuser -u postgres -- "$bin/initdb" -D "$out/pg" -U postgres --auth=trust >/dev/null
  taskset -c 0 runuser -u postgres -- "$bin/pg_ctl" -D "$out/pg" -l "$out/pg/server.log" -w \
    -o "-p $pg_port -k $out/pg -c listen_addresses=127.0.0.1" start >/dev/null
  pg_stop="runuser -u postgres -- $bin/pg_ctl -D $out/pg -m fast stop"
}

start_node() { # start_node INDEX [--redis-url URL]: starts a node, adds its pid to pids
  local i=$1
  shift
  sketchboard_node "${ports[$i]}" "$out/node$i.db" "$out/node$i.log" "$@"
  pids+=($!)
  until curl -sf "127.0.0.1:${ports[$i]}/healthz" >/dev/null; do sleep 0.1; done
}

start() { # start CONFIG: sqlite | redis1 | redis2 | byroom | cluster; sets pids, servers, redis_pids
  pids=() redis_pids=()
  case $1 in
    sqlite) start_node 0 ;;
    redis1) start_redis; start_node 0 --redis-url "redis://127.0.0.1:$redis_port" ;;
    archived) start_redis; start_pg
      start_node 0 --redis-url "redis://127.0.0.1:$redis_port" \
        --history-url "postgresql://postgres@127.0.0.1:$pg_port/postgres" --hot-tail "$HOT_TAIL" ;;
    redis2 | byroom) start_redis; start_node 0 --redis-url "redis://127.0.0.1:$redis_port"
      start_node 1 --redis-url "redis://127.0.0.1:$redis_port" ;;
    split3 | byroom3) start_redis; start_pg
      local i
      for i in 0 1 2; do
        start_node "$i" --redis-url "redis://127.0.0.1:$redis_port" \
          --history-url "postgresql://postgres@127.0.0.1:$pg_port/postgres" --hot-tail "$HOT_TAIL"
      done ;;
    cluster) start_cluster
      start_node 0 --redis-url "$cluster_url" --redis-replicas 1
      start_node 1 --redis-url "$cluster_url" --redis-replicas 1 ;;
  esac
  servers="ws://127.0.0.1:${ports[0]}"
  routing=()
  if [[ $1 == redis2 || $1 == byroom || $1 == cluster ]]; then servers+=",ws://127.0.0.1:${ports[1]}"; fi
  if [[ $1 == split3 || $1 == byroom3 ]]; then servers+=",ws://127.0.0.1:${ports[1]},ws://127.0.0.1:${ports[2]}"; fi
  if [[ $1 == byroom || $1 == byroom3 || $1 == cluster ]]; then routing=(--route-by-room); fi
}

stop() {
  for pid in "${pids[@]}" "${redis_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}" "${redis_pids[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; done
  if [[ -n $pg_stop ]]; then $pg_stop >/dev/null; pg_stop=; fi
}

pg_ticks() { # CPU ticks of every PostgreSQL process (its server and the nodes' sessions)
  local pid total=0
  for pid in $(pgrep -u postgres || true); do total=$(( total + $(ticks "$pid" 2>/dev/null || echo 0) )); done
  echo "$total"
}

redis_ticks() { # CPU ticks of every Redis process
  local pid total=0
  for pid in "${redis_pids[@]}"; do total=$(( total + $(ticks "$pid") )); done
  echo "$total"
}

load() { # load CONFIG NAME ARGS...
  local config=$1 name=$2 before=0 after=0 mem_before=0 mem_after=0 pg_before pg_after
  shift 2
  local all=$(IFS=,; echo "${pids[*]}${redis_pids[*]:+,${redis_pids[*]}}" | tr ' ' ',')
  if (( ${#redis_pids[@]} )); then before=$(redis_ticks) mem_before=$(redis_memory); fi
  pg_before=$(pg_ticks)
  row=$(taskset -c 1 target/release/loadgen --server "$servers" "${routing[@]}" --server-pid "$all" --log error --json "$@")
  if (( ${#redis_pids[@]} )); then after=$(redis_ticks) mem_after=$(redis_memory); fi
  pg_after=$(pg_ticks)
  echo "{\"config\":\"$config\",\"load\":\"$name\",\"redis_cpu\":$(( after - before )),\"pg_cpu\":$(( pg_after - pg_before )),\"redis_bytes\":$(( mem_after - mem_before )),\"row\":$row}" >>"$out/results.jsonl"
}

run_load() { # run_load CONFIG LOAD: fanout | rooms | roomsN (N rooms of 10 members, 20,000 changes/s in all)
  case $2 in
    fanout) load "$1" fanout fanout --readers 200 --rate-hz 100 --seconds 10 ;;
    rooms) load "$1" rooms rooms --seconds 10 ;;
    rooms*) local n=${2#rooms}
      load "$1" "$2" rooms --rooms "$n" --rate-hz "$(python3 -c "print(2000 / $n)")" --seconds 10 ;;
  esac
}

for round in $(seq 1 "$ROUNDS"); do
  for config in ${CONFIGS:-sqlite redis1 redis2 byroom cluster}; do
    for name in ${LOADS:-fanout rooms}; do
      start "$config"; run_load "$config" "$name"; stop
    done
    echo "round $round: $config done" >&2
  done
done

python3 - "$out/results.jsonl" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float('nan')
loads = {'fanout': '1 writer × 200 readers, 100 changes/s', 'rooms': '100 rooms × 10 members × 20 Hz'}
for n in sorted({int(r['load'][5:]) for r in runs if r['load'].startswith('rooms') and r['load'] != 'rooms'}):
    loads[f'rooms{n}'] = f'{n:,} rooms × 10 members × {2000 / n:g} Hz'
configs = {'sqlite': 'one node, SQLite', 'redis1': 'one node, Redis',
           'archived': 'one node, Redis keeping a hot tail, history in PostgreSQL',
           'redis2': 'two nodes, one Redis, rooms split',
           'byroom': 'two nodes, one Redis, routed by room',
           'split3': 'three nodes, one Redis, history in PostgreSQL, rooms split',
           'byroom3': 'three nodes, one Redis, history in PostgreSQL, routed by room',
           'cluster': 'two nodes, Redis Cluster (3 primaries + 3 replicas, --redis-replicas 1), routed by room'}
print('| load | deployment | deliveries/s | per server CPU-s | delivery p50 / p99 ms | ack p50 / p99 ms | server CPU s (of it Redis) | Redis memory per change | lost | rounds |')
print('|---|---|---|---|---|---|---|---|---|---|')
# PostgreSQL's CPU (its server and sessions, every postgres process) joins the server CPU where it ran.
for load, label in loads.items():
    for config, name in configs.items():
        rows = [r for r in runs if r['load'] == load and r['config'] == config]
        if not rows:
            continue
        rr = [r['row'] for r in rows]
        lat = lambda k, q: med([x[k][q] for x in rr if x.get(k)])
        pg = [max(r.get('pg_cpu', 0), 0) / 100 for r in rows]
        cpu = med([x['server']['cpu_seconds'] + p for x, p in zip(rr, pg) if x.get('server')])
        per_cpu = med([x['per_cpu_second'] * x['server']['cpu_seconds'] / (x['server']['cpu_seconds'] + p)
                       for x, p in zip(rr, pg) if x.get('server') and x.get('per_cpu_second')])
        redis = med([r['redis_cpu'] / 100 for r in rows])
        lost = med([x['lost'] / max(x['expected'], 1) * 100 for x in rr])
        per_change = med([r['redis_bytes'] / max(r['row']['sent'], 1) for r in rows]) if config != 'sqlite' else None
        memory = f'{per_change:,.0f} B' if per_change is not None else '–'
        print(f"| {label} | {name} | {med([x.get('per_second') for x in rr]):,.0f} | {per_cpu:,.0f} "
              f"| {lat('latency', 'p50_ms'):.1f} / {lat('latency', 'p99_ms'):.1f} | {lat('ack', 'p50_ms'):.1f} / {lat('ack', 'p99_ms'):.1f} "
              f"| {cpu:.2f} ({redis:.2f}) | {memory} | {lost:.1f} % | {len(rows)} |")
EOF
echo "raw results: $out/results.jsonl" >&2
