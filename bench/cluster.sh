#!/usr/bin/env bash
# Measures the world app in cluster mode (-w 2: two worker processes)
# against single mode (one process) on plaintext, JSON and single query
# (SQLite), with wrk on this machine, alternating the two so drift hits
# both alike. Both modes get every core: single mode one process with
# GOMAXPROCS at the core count, the cluster one worker per core with
# GOMAXPROCS=1 each (the master's default). wrk shares the cores, as a
# load generator on the same small machine must.
# Usage: bench/cluster.sh [rounds] [seconds] [connections]
# Needs wrk (Debian: apt-get install -y wrk).
set -euo pipefail
rounds=${1:-3} secs=${2:-8} conns=${3:-64}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/world" ./examples/world)
cd "$work"
"$work/world" -b tcp://127.0.0.1:18090 --control-url tcp://127.0.0.1:0 >/dev/null 2>&1 & pid=$!
for _ in $(seq 100); do curl -fs http://127.0.0.1:18090/json >/dev/null 2>&1 && break; sleep 0.2; done
kill "$pid"; wait "$pid" 2>/dev/null || true # world.db is now made and seeded

rps() { # workers port path
  "$work/world" -w "$1" -b "tcp://127.0.0.1:$2" --control-url tcp://127.0.0.1:0 >"$work/log.$1" 2>&1 & local pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$2$3" >/dev/null 2>&1 && break; sleep 0.1; done
  sleep 0.5 # every worker booted
  wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$2$3" >/dev/null # warm up
  wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:$2$3" | awk '/Requests\/sec/ {print $2}'
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for path in /plaintext /json /db; do
  printf '%-10s %-6s %12s %12s %7s\n' test round single "cluster-2" ratio
  ratios=()
  for r in $(seq "$rounds"); do
    s=$(rps 0 18091 "$path"); c=$(rps 2 18092 "$path")
    ratio=$(echo "$c / $s" | bc -l)
    ratios+=("$ratio")
    printf '%-10s %-6s %12s %12s %7.3f\n' "$path" "$r" "$s" "$c" "$ratio"
  done
  printf '%s median ratio cluster-2/single: %.3f\n\n' "$path" "$(printf '%s\n' "${ratios[@]}" | median)"
done
