#!/usr/bin/env bash
# Measures Hatago against bare net/http serving the same plaintext handler,
# with wrk on this machine, alternating the two so drift hits both alike.
# Usage: bench/plaintext.sh [rounds] [seconds] [connections]
# Needs wrk (Debian: apt-get install -y wrk).
set -euo pipefail
rounds=${1:-3} secs=${2:-10} conns=${3:-64}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
cd "$(dirname "$0")"
bin=$(mktemp -d)/plaintext
go build -o "$bin" ./plaintext
rps() { # server port
  "$bin" -server "$1" -addr "127.0.0.1:$2" & local pid=$!
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$2/" >/dev/null 2>&1 && break; sleep 0.1; done
  wrk -t2 -c"$conns" -d2s "http://127.0.0.1:$2/" >/dev/null # warm up
  wrk -t2 -c"$conns" -d"${secs}s" "http://127.0.0.1:$2/" | awk '/Requests\/sec/ {print $2}'
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
printf '%-6s %12s %12s %7s\n' round nethttp hatago ratio
for r in $(seq "$rounds"); do
  n=$(rps nethttp 18081); h=$(rps hatago 18082)
  printf '%-6s %12s %12s %7.3f\n' "$r" "$n" "$h" "$(echo "$h / $n" | bc -l)"
done
