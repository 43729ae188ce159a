#!/usr/bin/env bash
# Side-by-side benchmark of the SSH executor against parallel-ssh and
# ansible, run by hand as root (never in CI): preflight + inject + rollback
# of one light attack on HOSTS hosts (default 100), consecutive loopback
# addresses from 127.0.0.1 (1,000 end at 127.0.3.232).
#
# Setup 1, client efficiency: the hosts are served by bench/sshsink, an
# x/crypto/ssh server that answers every command at once, so the figures
# measure the clients.
# Setup 2, realism: the hosts are served by OpenSSH sshd (several processes,
# at most 16 ListenAddress each, MaxStartups/MaxSessions raised), which runs
# the commands. sshd's CPU per handshake and per session is measured first;
# the floor is (handshakes + sessions needed) x that cost / cores, and our
# time is reported as a ratio to it; a third floor adds the CPU of the
# steps' own scripts, run here without SSH (steps_cpu).
#
# Every tool sends the same command lines: the executor's own, printed by
# bench/sshdrive -mode commands. The light attack is a custom one whose
# commands are "true", so a step costs what the executor adds (state
# directory, dead man's switch, its cancellation). The 100 addresses are one
# machine: parallel-ssh and ansible send one command line to every host, so
# their 100 copies share one state directory; that is harmless for this
# attack, and every switch they leave ends itself within 15 s.
#
# Setup 2 runs twice: with the login user's shell rc files in place (root's
# ~/.bashrc runs for every session: bash sources it for a command sshd
# starts) and with HOME cleared (an empty directory, so none runs); both
# are reported, since the rc is often what a real host charges most for.
#
# Env: HOSTS (default 100), ROUNDS (default 3), PORT1/PORT2 (default
# 2299/2298), SETUPS ("1 2"), RC ("home-cleared rc-in-place"), OTHERS=0 to
# time only the executor.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: setup 2 starts sshd and logs in as root on loopback" >&2; exit 1; }

ROUNDS=${ROUNDS:-3}
PORT1=${PORT1:-2299}
PORT2=${PORT2:-2298}
SETUPS=${SETUPS:-1 2}
OTHERS=${OTHERS:-1}
N=${HOSTS:-100}
RC=${RC:-home-cleared rc-in-place}
CORES=$(nproc)

# addr I: the I-th loopback address (1-based), as bench/sshsink numbers them.
addr() { echo "127.0.$(($1 / 256)).$(($1 % 256))"; }

need=()
command -v parallel-ssh >/dev/null || need+=(pssh)
command -v ansible >/dev/null || need+=(ansible)
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
SSHD=$(command -v sshd || echo /usr/sbin/sshd)

# ansible's ControlPersist masters end with their servers; a second lets
# them, so the next setup starts from nothing.
. bench/lib.sh
bench_workdir ssh-compare 1

go build -o "$W/sshsink" ./bench/sshsink
go build -o "$W/sshdrive" ./bench/sshdrive
ssh-keygen -q -t ed25519 -N '' -C sshbench -f "$W/id"

now() { date +%s.%N; }
# AWK_MS defines ms(D): a Go duration as sshdrive prints it (850ms, 1.2s,
# 1m41.698s) in milliseconds.
AWK_MS='function ms(d,   t, m) {
  t = 0
  if (match(d, /^[0-9.]+h/)) { t += substr(d, 1, RLENGTH - 1) * 3600000; d = substr(d, RLENGTH + 1) }
  if (match(d, /^[0-9.]+m[^s]/) || match(d, /^[0-9.]+m$/)) { m = substr(d, 1, index(d, "m") - 1); t += m * 60000; d = substr(d, index(d, "m") + 1) }
  if (d ~ /ms$/) return t + d
  if (d ~ /s$/) return t + d * 1000
  return t
}'

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# other_tools PORT KNOWN_HOSTS LABEL: parallel-ssh and ansible run the three
# steps, ROUNDS times each; prints the median per step and in total.
other_tools() {
  local port=$1 kh=$2 label=$3
  [ "$OTHERS" = 1 ] || return 0
  for i in $(seq 1 $N); do echo "$(addr "$i"):$port"; done >"$W/pssh-hosts"
  { echo "[bench]"; for i in $(seq 1 $N); do echo "h$i ansible_host=$(addr "$i") ansible_port=$port"; done; } >"$W/inventory"
  local sshopts="-F /dev/null -i $W/id -o UserKnownHostsFile=$kh -o StrictHostKeyChecking=yes -o BatchMode=yes"
  local tool step t0 t1 r
  for tool in parallel-ssh ansible; do
    : >"$W/times"
    for r in $(seq 1 "$ROUNDS"); do
      rm -rf "$W/cp"; mkdir -p "$W/cp"
      for step in preflight inject rollback; do
        t0=$(now)
        if [ $tool = parallel-ssh ]; then
          parallel-ssh -h "$W/pssh-hosts" -p "$N" -l root -t 120 -x "$sshopts" "$(cat "$W/$step.cmd")" >"$W/out" 2>&1 || { tail -5 "$W/out"; echo "$tool $step failed" >&2; return 1; }
        else
          ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_NOCOLOR=1 ANSIBLE_REMOTE_USER=root ANSIBLE_PRIVATE_KEY_FILE="$W/id" \
            ANSIBLE_SSH_ARGS="-F /dev/null -o UserKnownHostsFile=$kh -o StrictHostKeyChecking=yes -o BatchMode=yes -o ControlMaster=auto -o ControlPersist=60s" \
            ANSIBLE_CONTROL_PATH_DIR="$W/cp" ANSIBLE_LOCAL_TEMP="$W/atmp" \
            ansible bench -i "$W/inventory" -f "$N" -m raw -a "$(cat "$W/$step.cmd")" >"$W/out" 2>&1 || { tail -5 "$W/out"; echo "$tool $step failed" >&2; return 1; }
        fi
        t1=$(now)
        echo "$step $(secs "$t0" "$t1")" >>"$W/times"
      done
      # ansible's connection masters would outlive the round and make the
      # next round's preflight skip its handshakes.
      for s in "$W"/cp/*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit x >/dev/null 2>&1 || true; done
    done
    local p i b
    p=$(awk '$1 == "preflight" { print $2 }' "$W/times" | median)
    i=$(awk '$1 == "inject" { print $2 }' "$W/times" | median)
    b=$(awk '$1 == "rollback" { print $2 }' "$W/times" | median)
    printf '%-14s %-10s preflight %6ss inject %6ss rollback %6ss total %6ss\n' "$label" "$tool" "$p" "$i" "$b" "$(awk -v a="$p" -v b="$i" -v c="$b" 'BEGIN { printf "%.3f", a + b + c }')"
  done
}

setup1() {
  echo "== setup 1: bench/sshsink on 127.0.0.1-$(addr $N):$PORT1 (answers at once), $CORES cores"
  "$W/sshsink" -hosts $N -port "$PORT1" -authorized-keys "$W/id.pub" -known-hosts "$W/kh1" 2>"$W/sink.log" &
  pids+=($!)
  for _ in $(seq 1 100); do [ -s "$W/kh1" ] && break; sleep 0.05; done
  [ -s "$W/kh1" ] || { cat "$W/sink.log"; exit 1; }
  "$W/sshdrive" -mode commands -out "$W" -port "$PORT1" -key "$W/id" -known-hosts "$W/kh1"
  "$W/sshdrive" -hosts $N -port "$PORT1" -key "$W/id" -known-hosts "$W/kh1" -rounds $((ROUNDS * 3)) | tee "$W/ours1"
  echo "goal: total < 0.5s, abort < 0.1s at 100 hosts; total < 2s, abort < 250ms, peak-rss < 200MB at 1,000"
  other_tools "$PORT1" "$W/kh1" setup1
  kill "${pids[-1]}"
}

setup2() {
  local rc
  for rc in $RC; do setup2_rc "$rc"; done
}

# setup2_rc MODE: setup 2 with the sessions' HOME cleared (home-cleared) or
# the login user's own (rc-in-place).
setup2_rc() {
  local mode=$1
  echo "== setup 2 ($mode): OpenSSH sshd on 127.0.0.1-$(addr $N):$PORT2 (runs the commands), $CORES cores"
  rm -f "$W/host" "$W/host.pub"
  ssh-keygen -q -t ed25519 -N '' -f "$W/host"
  : >"$W/kh2"
  local first=1 conf k sshd_pids=()
  # home-cleared gives the sessions an empty HOME: root's ~/.bashrc on a
  # developer machine (pyenv init: about 165 ms of CPU a session, and a
  # rehash lock that concurrent ones queue on) would otherwise cost more
  # than sshd itself. rc-in-place keeps it, as a real host would.
  mkdir -p /run/sshd "$W/home"
  local sethome="SetEnv HOME=$W/home"
  [ "$mode" = rc-in-place ] && sethome="# HOME as the login user's"
  while [ $first -le $N ]; do
    k=$((first / 16))
    conf="$W/sshd$k.conf"
    {
      echo "Port $PORT2"
      for i in $(seq $first $((first + 15 < N ? first + 15 : N))); do echo "ListenAddress $(addr "$i")"; done
      cat <<EOF
HostKey $W/host
PidFile $W/sshd$k.pid
AuthorizedKeysFile $W/id.pub
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxStartups 200
MaxSessions 200
$sethome
LogLevel ERROR
EOF
    } >"$conf"
    "$SSHD" -D -e -f "$conf" 2>>"$W/sshd.log" &
    pids+=($!)
    sshd_pids+=($!)
    first=$((first + 16))
  done
  for i in $(seq 1 $N); do echo "[$(addr "$i")]:$PORT2 $(cat "$W/host.pub")"; done >"$W/kh2"
  for i in $(seq 1 200); do
    (exec 3<>"/dev/tcp/$(addr $N)/$PORT2") 2>/dev/null && break
    sleep 0.05
  done
  local cpuof
  cpuof=$(IFS=,; echo "${sshd_pids[*]}")
  local drive=("$W/sshdrive" -hosts $N -port "$PORT2" -key "$W/id" -known-hosts "$W/kh2" -cpu-of "$cpuof")

  # sshd's cost: handshakes alone, then handshakes plus 3 sessions each.
  local h s hs
  "${drive[@]}" -mode handshakes | tee "$W/h"
  "${drive[@]}" -mode sessions -per-host 3 | tee "$W/s"
  h=$(awk '{ print $NF }' "$W/h")
  hs=$(awk '{ print $NF }' "$W/s")
  # Per handshake and per session, in ms.
  read -r h s < <(awk -v h="$h" -v hs="$hs" -v n=$N "$AWK_MS"'
    BEGIN { H = ms(h) / n; S = (ms(hs) - ms(h)) / (3 * n); printf "%.1f %.1f\n", H, S }')
  echo "sshd cost: ${h} ms per handshake, ${s} ms per session (CPU, processes it forks included)"

  "$W/sshdrive" -mode commands -out "$W" -port "$PORT2" -key "$W/id" -known-hosts "$W/kh2"
  local work
  work=$(steps_cpu)
  echo "the steps' own work: ${work} ms CPU for ${N} hosts (their scripts run here without SSH)"
  "${drive[@]}" -rounds "$ROUNDS" | tee "$W/ours2"
  # Two floors: what this run needed (one handshake and, with the
  # executor's shell, one session per host), and what running each step as
  # ssh HOST CMD needs (one handshake and three sessions per host).
  awk -v h="$h" -v s="$s" -v c="$CORES" -v w="$work" "$AWK_MS"'
    function sec(d) { return ms(d) / 1000 }
    /^median/ { for (i = 1; i <= NF; i++) v[$i] = $(i + 1) }
    END {
      t = sec(v["total"]); hs = v["handshakes"]; ss = v["sessions"]
      used = (hs * h + ss * s) / 1000; exec3 = (hs * h + 3 * hs * s) / 1000; done = used + w / 1000
      printf "floor for what we used (%d handshakes + %d sessions): %.3fs CPU, %.3fs on %d cores\n", hs, ss, used, used / c, c
      printf "floor for one session per step (%d handshakes + %d sessions): %.3fs on %d cores\n", hs, 3 * hs, exec3 / c, c
      printf "floor for the work done (the first, plus the steps'"'"' own work): %.3fs on %d cores\n", done / c, c
      printf "ours: %.3fs wall = %.2fx the first floor, %.2fx the second, %.2fx the work done (goal <= 1.3x); sshd CPU %.3fs = %.2fx the first floor CPU\n",
        t, t / (used / c), t / (exec3 / c), t / (done / c), sec(v["server-cpu"]), sec(v["server-cpu"]) / used
      printf "abort (rollback on hosts already connected): %s\n", v["abort"]
    }' "$W/ours2"
  echo "load average while measuring: $(cut -d ' ' -f 1-3 /proc/loadavg) (the cores are shared; wall time suffers, CPU time does not)"
  other_tools "$PORT2" "$W/kh2" "setup2-$mode"
  for p in "${sshd_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
}

# steps_cpu: the CPU, in ms, of the steps' own work on N hosts: each host's
# preflight, inject and rollback scripts run here in one sh, each in a
# subshell as the executor's shell runs them, without SSH, in the bench's
# order (every preflight, then every inject, then every rollback) and with
# a name per host as the bench gives them, so the state directory they
# share fills and empties as it does under the bench. The hosts must do
# this work whatever carries the scripts to them; what the executor adds
# (handshakes, sessions, framing, the go-ahead) is what the floors leave out.
steps_cpu() {
  local f="$W/steps.sh" i s TIMEFORMAT='%3U %3S'
  : >"$f"
  for s in preflight inject rollback; do
    for i in $(seq "$N"); do
      printf '( eval %s ) </dev/null >/dev/null 2>&1\n' "$(sed -e '1s/^sh -c //' -e "s/^N=\(.*\)\$/N=\1-$i/" "$W/$s.cmd")" >>"$f"
    done
  done
  { time sh "$f"; } 2>&1 | awk '{ printf "%.0f\n", ($1 + $2) * 1000 }'
}

for s in $SETUPS; do "setup$s"; done
