#!/usr/bin/env bash
# Fan-out benchmark of the SSH executor, run by hand (never in CI):
# preflight + inject + rollback of a cpu attack on 100 hosts served by a
# lightweight x/crypto/ssh server on 127.0.0.1-127.0.0.100, connections
# included, and an abort (rollback on hosts already connected).
#
# bench/ssh-compare.sh runs the same steps side by side with parallel-ssh
# and ansible, and against real OpenSSH sshd.
set -euo pipefail
cd "$(dirname "$0")/.."
go test ./targets/ssh -run '^$' -bench 'Fanout100' -benchtime "${BENCHTIME:-10x}" -count "${COUNT:-3}"
