#!/usr/bin/env bash
# Fan-out benchmark of the SSH executor, run by hand (never in CI):
# preflight + inject + rollback of a cpu attack on 100 hosts served by a
# lightweight x/crypto/ssh server on 127.0.0.1-127.0.0.100, connections
# included, and an abort (rollback on hosts already connected).
#
# Side-by-side figures for parallel-ssh -p 100 and ansible -f 100 against
# the same hosts, and the real-sshd setup, are not scripted yet.
set -euo pipefail
cd "$(dirname "$0")/.."
go test ./targets/ssh -run '^$' -bench 'Fanout100' -benchtime "${BENCHTIME:-10x}" -count "${COUNT:-3}"
