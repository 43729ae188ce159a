# Sourced by the benchmark scripts, never run.
#
# bench_workdir NAME SETTLE makes W a fresh /tmp/NAME.XXXXXX and pids an
# empty list for the background processes the script starts. When the
# script exits, each of pids is killed, SETTLE seconds are given for them
# (and whatever they started) to end, and W is removed.
bench_workdir() {
  W=$(mktemp -d "/tmp/$1.XXXXXX")
  pids=()
  BENCH_SETTLE=$2
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep "$BENCH_SETTLE"
  rm -rf "$W"
}
