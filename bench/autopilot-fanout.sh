#!/usr/bin/env bash
# Fan-out through the real binary, run by hand (never in CI): `gameday run
# --autopilot` (runbook, engine, journal, autopilot log and the SSH
# executor) on HOSTS loopback hosts served by bench/sshsink, a light custom
# attack on every host. From the run's JSON events it reports the probe
# (run start to its verdict: resolve and one handshake per host), preflight
# (the blast-radius phase to the last preflight; the baseline between the
# two is in neither), inject (first intent to last result) and rollback (first
# intent to last result); a second run is interrupted with SIGINT once every
# host is injected and the abort is timed from its event to the run's end.
# The binary's peak resident memory is GNU time's "Maximum resident set
# size" of each run.
#
# Env: HOSTS (default "100 300 1000"), PORT (default 2297), PROM_PORT
# (default 9297). Needs prometheus, jq and /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
HOSTS=${HOSTS:-100 300 1000}
PORT=${PORT:-2297}
PROM_PORT=${PROM_PORT:-9297}
for c in prometheus jq /usr/bin/time; do command -v "$c" >/dev/null || { echo "needs $c" >&2; exit 1; }; done

. bench/lib.sh
bench_workdir autopilot-fanout 0.5

go build -o "$W/gameday" ./cmd/gameday
go build -o "$W/sshsink" ./bench/sshsink
ssh-keygen -q -t ed25519 -N '' -C autopilot-bench -f "$W/id"
cat >"$W/prom.yml" <<PROM
global: {scrape_interval: 1s}
scrape_configs: [{job_name: self, static_configs: [{targets: ["127.0.0.1:$PROM_PORT"]}]}]
PROM
prometheus --config.file="$W/prom.yml" --web.listen-address="127.0.0.1:$PROM_PORT" --storage.tsdb.path="$W/prom" >"$W/prom.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PROM_PORT") 2>/dev/null && break; sleep 0.1; done

addr() { echo "127.0.$(($1 / 256)).$(($1 % 256))"; }
# secs TIME: an RFC 3339 time of day as seconds.
secs() { awk -v t="$1" 'BEGIN { split(substr(t, 12), a, ":"); sub(/Z.*/, "", a[3]); printf "%.3f", a[1] * 3600 + a[2] * 60 + a[3] }'; }
span() { awk -v a="$(secs "$1")" -v b="$(secs "$2")" 'BEGIN { printf "%.3fs", b - a }'; }
first() { jq -r --arg t "$1" 'select(.type == $t) | .time' "$2" | head -1; }
last() { jq -r --arg t "$1" 'select(.type == $t) | .time' "$2" | tail -1; }
rss() { awk -F': ' '/Maximum resident set size/ { printf "%dMB", $2 / 1024 }' "$1"; }

for n in $HOSTS; do
  rm -f "$W/kh"
  "$W/sshsink" -hosts "$n" -port "$PORT" -authorized-keys "$W/id.pub" -known-hosts "$W/kh" 2>"$W/sink.log" &
  sink=$!
  pids+=($sink)
  for _ in $(seq 1 200); do [ -s "$W/kh" ] && break; sleep 0.05; done
  hosts=$(for i in $(seq 1 "$n"); do printf '%s%s' "$([ "$i" = 1 ] || echo ', ')" "$(addr "$i")"; done)
  cat >"$W/r.yaml" <<RB
version: 1
name: fan-out on $n hosts
metrics:
  url: http://127.0.0.1:$PROM_PORT
  step: 1s
  panels:
    errors: {query: 'vector(0.001)', unit: ratio}
baseline: {duration: 2s, steady_state: {errors: "< 1%"}}
hypothesis: {statement: a light attack changes nothing, expect: {errors: "< 2%"}}
targets:
  fleet: {ssh: {hosts: [$hosts], port: $PORT, user: root}}
blast_radius: {fleet: {all: true}}
attacks:
  - {name: light, target: fleet, kind: custom, params: {inject: "true", rollback: "true"}, duration: 5s}
observe: {duration: 8s}
RB
  run=("$W/gameday" run "$W/r.yaml" --autopilot --json --fanout "$n" -F /dev/null --known-hosts "$W/kh" -i "$W/id" --runs-dir "$W/runs")
  SSH_AUTH_SOCK= /usr/bin/time -v "${run[@]}" >"$W/ev.jsonl" 2>"$W/err" || { tail -5 "$W/err"; echo "the run failed" >&2; exit 1; }
  # The probe (one handshake per host) comes before the baseline, the
  # preflight after it: each is timed on its own, so the baseline's
  # duration is in neither.
  start=$(first run.start "$W/ev.jsonl")
  blast=$(jq -r 'select(.type == "phase" and .phase == "blast radius") | .time' "$W/ev.jsonl" | head -1)
  echo "hosts $n: probe $(span "$start" "$(first probe "$W/ev.jsonl")")" \
    "preflight $(span "$blast" "$(last preflight "$W/ev.jsonl")")" \
    "inject $(span "$(first attack.intent "$W/ev.jsonl")" "$(last attack.result "$W/ev.jsonl")")" \
    "rollback $(span "$(first rollback.intent "$W/ev.jsonl")" "$(last rollback.result "$W/ev.jsonl")")" \
    "peak-rss $(rss "$W/err") autopilot-lines $(grep -c '^T+' "$W/err")"

  # The abort run's attack lasts long enough to be interrupted while in place.
  sed -e 's/duration: 5s}/duration: 5m}/' -e 's/observe: {duration: 8s}/observe: {duration: 6m}/' "$W/r.yaml" >"$W/abort.yaml"
  run[2]=$W/abort.yaml
  SSH_AUTH_SOCK= /usr/bin/time -v "${run[@]}" >"$W/ev2.jsonl" 2>"$W/err2" &
  gd=$!
  for _ in $(seq 1 3000); do
    [ "$(grep -c '"type":"attack.result"' "$W/ev2.jsonl" || true)" -ge "$n" ] && break
    sleep 0.05
  done
  pkill -INT -P "$gd" gameday 2>/dev/null || true
  wait "$gd" || true
  echo "hosts $n: abort $(span "$(first abort "$W/ev2.jsonl")" "$(last run.end "$W/ev2.jsonl")")" \
    "rolled back $(grep -c '"type":"rollback.result"' "$W/ev2.jsonl") of $n, peak-rss $(rss "$W/err2")"
  kill "$sink"
  wait "$sink" 2>/dev/null || true
done
echo "load average: $(cut -d ' ' -f 1-3 /proc/loadavg) on $(nproc) cores (shared: wall times are upper bounds)"
