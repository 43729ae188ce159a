#!/usr/bin/env bash
# The gameday binary, measured by hand (never in CI): its size, the modules
# linked into it, and the median wall time of `gameday version` and of
# `gameday validate` on a scenario runbook over RUNS runs (default 20).
#
#   bench/binary.sh            the working tree
#   bench/binary.sh REV...     the working tree, then each git revision,
#                              built from `git archive` in a temporary directory
#
# Default build flags, linux/amd64, as a user would `go build ./cmd/gameday`.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One runbook for every build: the working tree's, so revisions are timed
# on the same input.
runbook=$tmp/added-latency.yaml
cp runbook/scenarios/added-latency.yaml "$runbook"

# median reads one number a line and prints the median.
median() {
  sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# ms runs its arguments RUNS times and prints each run's wall time in ms.
ms() {
  local start end
  for _ in $(seq "$runs"); do
    start=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    end=$EPOCHREALTIME
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", (e - s) * 1000 }'
  done
}

measure() {
  local name=$1 bin=$2
  local size mods version validate
  size=$(stat -c %s "$bin")
  mods=$(go version -m "$bin" | awk '$1 == "dep"' | wc -l)
  "$bin" version >/dev/null # first run off the clock: page cache
  version=$(ms "$bin" version | median)
  validate=$(ms "$bin" validate "$runbook" | median)
  printf '%-12s %6.1f MB  %4d modules  version %6.2f ms  validate %6.2f ms  (median of %d)\n' \
    "$name" "$(awk -v b="$size" 'BEGIN { print b / 1e6 }')" "$mods" "$version" "$validate" "$runs"
}

GOOS=linux GOARCH=amd64 go build -o "$tmp/gameday-tree" ./cmd/gameday
measure "tree" "$tmp/gameday-tree"
for rev in "$@"; do
  src=$tmp/src-$rev
  mkdir -p "$src"
  git archive "$rev" | tar -x -C "$src"
  (cd "$src" && GOOS=linux GOARCH=amd64 go build -o "$tmp/gameday-$rev" ./cmd/gameday)
  measure "$rev" "$tmp/gameday-$rev"
done
