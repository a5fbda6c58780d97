#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on 127.0.0.1 for the tests and prints
# the variables to use it:
#   eval "$(scripts/pg-start.sh)"
# exports TRAMONTANE_TEST_DATABASE_URL and TRAMONTANE_PG_DIR (the cluster's
# own directory, so that two runs never share a cluster). Stop and remove it with:
#   scripts/pg-start.sh stop        (reads TRAMONTANE_PG_DIR)
# TRAMONTANE_PG_PORT picks the port (default: a free one).
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
  echo "pg-start: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "${1:-}" = stop ]; then
  dir=${TRAMONTANE_PG_DIR:-}
  if [ -n "$dir" ] && [ -d "$dir/data" ]; then
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
  fi
  exit 0
fi
dir=$(mktemp -d /tmp/tramontane-pg.XXXXXX)
port=${TRAMONTANE_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')}
[ "$(id -u)" = 0 ] && chown postgres "$dir"
fail() {
  echo "pg-start: $1; see the logs in $dir" >&2
  exit 1
}
as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 || fail "initdb failed"
as_pg "$bindir/pg_ctl" -D "$dir/data" -w -l "$dir/log" \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=300" start >/dev/null 2>&1 ||
  fail "the server did not start on 127.0.0.1:$port"
as_pg "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE tramontane_test" >/dev/null 2>"$dir/psql.log" ||
  fail "CREATE DATABASE failed"
echo "export TRAMONTANE_PG_DIR=$dir"
echo "export TRAMONTANE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/tramontane_test?sslmode=disable"
