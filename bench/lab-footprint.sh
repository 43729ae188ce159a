#!/usr/bin/env bash
# The lab's footprint as a user runs it: the built gameday binary running
# `gameday lab up` at its defaults (3 hosts, 50 req/s, scrapes every second),
# measured from outside the process over SECONDS seconds (default 60) after
# WARMUP seconds (default 5): its share of one core, its resident memory at
# the end and its peak. BenchmarkLabDefaults (lab/bench_test.go) measures the
# same lab inside a test process; this is the binary people run.
#
#   bench/lab-footprint.sh
#   SECONDS_=120 bench/lab-footprint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
span=${SECONDS_:-60}
warmup=${WARMUP:-5}
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/gameday" ./cmd/gameday
"$tmp/gameday" lab up --dir "$tmp/lab" >"$tmp/out" 2>&1 &
pid=$!

# Ready when it has printed its Prometheus URL.
for _ in $(seq 100); do
  grep -q 'http://127\.' "$tmp/out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/out"; exit 1; }
  sleep 0.1
done
sleep "$warmup"

ticks=$(getconf CLK_TCK)
# cpu prints the process's user+system time in clock ticks.
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }

c0=$(cpu)
t0=$EPOCHREALTIME
sleep "$span"
c1=$(cpu)
t1=$EPOCHREALTIME
rss=$(kb VmRSS)
hwm=$(kb VmHWM)
awk -v c="$((c1 - c0))" -v hz="$ticks" -v a="$t0" -v b="$t1" -v rss="$rss" -v hwm="$hwm" -v size="$(stat -c %s "$tmp/gameday")" 'BEGIN {
  printf "gameday lab up (binary %.1f MB): %.2f%% of one core over %.0fs, rss %.1f MB, peak rss %.1f MB\n",
    size / 1e6, 100 * (c / hz) / (b - a), b - a, rss / 1024, hwm / 1024
}'
