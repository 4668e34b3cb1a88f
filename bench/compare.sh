#!/usr/bin/env bash
# Sketchboard side by side with a plain socket.io relay, a bare Rust relay and
# the same relay recording every change before it shows it (one writer thread,
# group commits: write, fdatasync, then broadcast), on the same open-loop load,
# interleaved, each server pinned to core 0 and the generator to core 1
# (docs/benchmarks.md, "Against the others").
#
#   bench/compare.sh [ROUNDS]     # default 6; prints a Markdown table of medians
#   TARGETS=sketchboard bench/compare.sh 2   # only some of the servers (raw figures only)
#   BEFORE=/path/to/sketchboard TARGETS="sketchboard before relay" bench/compare.sh 6
#                                 # "before": another Sketchboard build, interleaved with this one
#
# Needs the release binaries and the socket.io relay's packages:
#   cargo build --release -p sketchboard -p sketchboard-loadgen -p sketchboard-bench-relay --features sketchboard/ssr
#   (the recording relay is bench-relay --record FILE; FILE goes in the run's temporary folder)
#   (cd bench/socketio && npm ci)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-6}
port=3930

start() { # start TARGET: starts the server, prints its pid
  case $1 in
    sketchboard) sketchboard_node "$port" "$out/bench.db" "$out/server.log" ;;
    before) BIN=$BEFORE sketchboard_node "$port" "$out/bench.db" "$out/server.log" ;;
    relay) taskset -c 0 target/release/bench-relay "127.0.0.1:$port" >"$out/server.log" 2>&1 & ;;
    recording) rm -f "$out/relay.log"
      taskset -c 0 target/release/bench-relay "127.0.0.1:$port" --record "$out/relay.log" >"$out/server.log" 2>&1 & ;;
    socketio) taskset -c 0 node bench/socketio/server.js "127.0.0.1:$port" >"$out/server.log" 2>&1 & ;;
  esac
  echo $!
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.1; done
}

stop() { # stop PID: and wait until its port is free again
  kill "$1" 2>/dev/null || true
  while kill -0 "$1" 2>/dev/null; do sleep 0.1; done
}

wire() { # wire TARGET: the protocol loadgen speaks to it
  case $1 in before) echo sketchboard ;; recording) echo relay ;; *) echo "$1" ;; esac
}

load() { # load TARGET PID NAME ARGS...
  local target=$1 pid=$2 name=$3
  shift 3
  taskset -c 1 target/release/loadgen --server "ws://127.0.0.1:$port" --target "$(wire "$target")" --server-pid "$pid" \
    --log error --json "$@" | sed "s/^/{\"round_target\":\"$target\",\"load\":\"$name\",\"row\":/; s/\$/}/" >>"$out/results.jsonl"
}

for round in $(seq 1 "$ROUNDS"); do
  for target in ${TARGETS:-sketchboard socketio relay recording}; do
    pid=$(start "$target"); load "$target" "$pid" fanout fanout --readers 200 --rate-hz 100 --seconds 10; stop "$pid"
    pid=$(start "$target"); load "$target" "$pid" rooms rooms --seconds 10; stop "$pid"
    echo "round $round: $target done" >&2
  done
done

python3 - "$out/results.jsonl" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
def med(xs): return statistics.median(xs) if xs else float('nan')
loads = {'fanout': '1 writer × 200 readers, 100 changes/s', 'rooms': '100 rooms × 10 members × 20 Hz'}
print('| load | server | deliveries per server CPU-s | delivery p50 ms | p99 ms | lost | server CPU s | rounds |')
print('|---|---|---|---|---|---|---|---|')
figures = {}
for load, label in loads.items():
    for target in ['sketchboard', 'before', 'socketio', 'relay', 'recording']:
        rows = [r['row'] for r in runs if r['load'] == load and r['round_target'] == target]
        if not rows:
            continue
        per_cpu = med([r['per_cpu_second'] for r in rows if r.get('per_cpu_second')])
        p50 = med([r['latency']['p50_ms'] for r in rows if r.get('latency')])
        p99 = med([r['latency']['p99_ms'] for r in rows if r.get('latency')])
        lost = med([r['lost'] / max(r['expected'], 1) * 100 for r in rows])
        cpu = med([r['server']['cpu_seconds'] for r in rows if r.get('server')])
        figures[(load, target)] = (per_cpu, p99)
        print(f'| {label} | {target} | {per_cpu:,.0f} | {p50:.1f} | {p99:.1f} | {lost:.1f} % | {cpu:.2f} | {len(rows)} |')
print()
floors = {'socketio': 'socket.io', 'relay': 'the bare relay', 'recording': 'the recording relay'}
for load, label in loads.items():
    for target in ['sketchboard', 'before']:
        if (load, target) not in figures:
            continue
        s = figures[(load, target)]
        said = [f'{s[0] / figures[(load, f)][0]:.2f}× {name}' for f, name in floors.items() if (load, f) in figures]
        p99 = [f'{s[1] / figures[(load, f)][1]:.2f}× {name}' for f, name in floors.items() if (load, f) in figures and f != 'socketio']
        print(f'{label}, {target}: per CPU-s ' + ', '.join(said) + '; p99 ' + ', '.join(p99))
EOF
echo "raw results: $out/results.jsonl" >&2
