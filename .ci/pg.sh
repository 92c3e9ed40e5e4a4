#!/usr/bin/env bash
# Start or stop a throw-away PostgreSQL server on loopback for the tests.
#   .ci/pg.sh start DIR PORT   -> prints the URL to give pytest (--pg / GRIDDESK_TEST_PG)
#   .ci/pg.sh stop DIR
#   .ci/pg.sh halt DIR / .ci/pg.sh resume DIR PORT  -> stop the server keeping its data, start it
#                                                     again (the fault tests)
# The server refuses to run as root, so as root it runs as the 'postgres' user (created if absent).
set -euo pipefail
cmd=$1; dir=$2; port=${3:-54329}

find_bin() {
  local b
  for b in /usr/lib/postgresql/*/bin; do [ -x "$b/initdb" ] && { echo "$b"; return; }; done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
  return 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

run_server() {
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" start >/dev/null
}

case "$cmd" in
start)
  if ! bin=$(find_bin); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
    bin=$(find_bin)
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1
  # The harness's superuser comes in on loopback without a password; every other role must
  # give its own (the tests of database roles try wrong ones).
  cat >"$dir/data/pg_hba.conf" <<'HBA'
local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
HBA
  run_server
  echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
  ;;
stop)
  bin=$(find_bin)
  [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
halt)
  bin=$(find_bin)
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
resume)
  bin=$(find_bin)
  run_server
  ;;
*) echo "usage: $0 start DIR [PORT] | stop DIR | halt DIR | resume DIR [PORT]" >&2; exit 2 ;;
esac
