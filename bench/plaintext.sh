#!/usr/bin/env bash
# Measures Hatago against bare net/http serving the same plaintext handler,
# with wrk on this machine, alternating the two so drift hits both alike.
# Usage: bench/plaintext.sh [rounds] [seconds] [connections]
# Needs wrk (Debian: apt-get install -y wrk). On a machine with two or more
# cores the server runs pinned to core 1 with GOMAXPROCS=1 and wrk to core
# 0, so the two do not fight over a core and rounds agree with each other.
# HATAGO_* variables in the environment configure the Hatago server;
# BASELINE=nethttp-timeouts compares against net/http with Hatago's default
# timeouts instead of bare net/http; PIN=0 lets both share every core.
set -euo pipefail
rounds=${1:-3} secs=${2:-10} conns=${3:-64}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
cd "$(dirname "$0")"
bin=$(mktemp -d)/plaintext
go build -o "$bin" ./plaintext
pin_server=() pin_wrk=()
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  pin_server=(taskset -c 1) pin_wrk=(taskset -c 0)
  export GOMAXPROCS=1
fi
rps() { # server port
  "${pin_server[@]}" "$bin" -server "$1" -addr "127.0.0.1:$2" & local pid=$!
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$2/" >/dev/null 2>&1 && break; sleep 0.1; done
  "${pin_wrk[@]}" wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$2/" >/dev/null # warm up
  "${pin_wrk[@]}" wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:$2/" | awk '/Requests\/sec/ {print $2}'
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
base=${BASELINE:-nethttp}
printf '%-6s %12s %12s %7s\n' round "$base" hatago ratio
ratios=()
for r in $(seq "$rounds"); do
  n=$(rps "$base" 18081); h=$(rps hatago 18082)
  ratio=$(echo "$h / $n" | bc -l)
  ratios+=("$ratio")
  printf '%-6s %12s %12s %7.3f\n' "$r" "$n" "$h" "$ratio"
done
printf "median ratio hatago/$base: %.3f\n" "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')"
