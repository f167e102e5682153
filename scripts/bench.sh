#!/usr/bin/env bash
# Runs Convene's bench table (cmd/convene-bench): makes sure PostgreSQL answers,
# builds the bench, prints when and on what it ran, then the table. Arguments
# go to the bench: -only catalogue,rush, -duration 10s, -c 32, -rush-attempts 4000,
# -cpuprofile cpu.pprof.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-postgres.sh --install
# The registration rush's baseline is pgbench, from Debian's PostgreSQL packages.
if ! pgbench --version >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing pgbench (postgresql-client, postgresql-contrib)..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 install -y -q postgresql-client postgresql-contrib >/dev/null 2>&1 || {
      apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null
      apt-get -o DPkg::Lock::Timeout=300 install -y -q postgresql-client postgresql-contrib >/dev/null
    }
  else
    echo "pgbench is missing: install postgresql-client and postgresql-contrib (apt-get), or run with -only catalogue." >&2
    exit 1
  fi
fi
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
