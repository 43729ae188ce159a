#!/usr/bin/env bash
# Fan-out benchmark of the SSH executor, run by hand (never in CI):
# preflight + inject + rollback of a cpu attack on 100, 300 and 1,000 hosts
# served by a lightweight x/crypto/ssh server on consecutive loopback
# addresses from 127.0.0.1 (1,000 end at 127.0.3.232), connections included,
# and an abort (rollback on hosts already connected). SIZES=1000 runs one.
#
# bench/ssh-compare.sh runs the same steps side by side with parallel-ssh
# and ansible, and against real OpenSSH sshd.
set -euo pipefail
cd "$(dirname "$0")/.."
go test ./targets/ssh -run '^$' -bench "Fanout/hosts-(${SIZES:-100|300|1000})/" -benchtime "${BENCHTIME:-10x}" -count "${COUNT:-3}"
