#!/usr/bin/env bash
# Memory and per-poll cost of an 8-hour game day: 1 s step, 4 panels x 3
# series, polled through the real Prometheus client against a loopback fake.
# Reports heap in use (goal < 50 MB) and bytes fetched per poll in the first
# and last hour (equal: polls fetch new steps only).
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench EightHourGameDay -benchtime 1x ./metrics
