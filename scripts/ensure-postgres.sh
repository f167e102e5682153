#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:${PGPORT:-5432}.
# 1. One already answers: done.
# 2. The machine has PostgreSQL's binaries: start a private server under .data/pg
#    (initdb on first use).
# 3. None: with --install and root on Debian, install them with apt-get and go
#    to 2; otherwise say in one sentence what to do.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PGPORT:-5432}
install=false
[ "${1:-}" = "--install" ] && install=true

answers() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p "$port"
  else
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null
  fi
}
if answers; then exit 0; fi

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) /usr/local/bin /usr/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}
bin=$(find_bin || true)
if [ -z "$bin" ] && $install && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing PostgreSQL from Debian's packages..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 install -y -q postgresql >/dev/null 2>&1 || {
    apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null
    apt-get -o DPkg::Lock::Timeout=300 install -y -q postgresql >/dev/null
  }
  bin=$(find_bin || true)
fi
if [ -z "$bin" ]; then
  echo "No PostgreSQL answers on 127.0.0.1:$port and none is installed: install PostgreSQL (apt-get install postgresql), or run \`docker compose up db\`." >&2
  exit 1
fi

data=$PWD/.data/pg
mkdir -p .data
# PostgreSQL refuses to run as root; run the private server as the postgres user.
as=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PWD/.data" --shell /usr/sbin/nologin postgres
  chown postgres "$PWD/.data"
  as=(runuser -u postgres --)
fi
if [ ! -f "$data/PG_VERSION" ]; then
  echo "Creating a private PostgreSQL cluster in .data/pg ..."
  "${as[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
echo "Starting a private PostgreSQL on 127.0.0.1:$port (data in .data/pg, log in .data/pg.log) ..."
"${as[@]}" "$bin/pg_ctl" -D "$data" -l "$PWD/.data/pg.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $port -k /tmp -c fsync=off -c max_connections=300" start >/dev/null
answers
