#!/usr/bin/env bash
# Runs Convene's bench table (cmd/convene-bench): makes sure PostgreSQL answers,
# builds the bench, prints when and on what it ran, then the table. Arguments
# go to the bench: -only catalogue, -duration 10s, -c 32, -cpuprofile cpu.pprof.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-postgres.sh --install
mkdir -p bin
go build -o bin/convene-bench ./cmd/convene-bench

mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
echo "## Convene bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "machine: $(nproc) CPUs${cpu:+ ($cpu)}, $((mem_kb / 1024 / 1024)) GiB memory, $(uname -sr)"
echo
# exec, so Ctrl-C reaches the bench, which then drops its database.
exec bin/convene-bench "$@"
