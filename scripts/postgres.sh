#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: `source scripts/postgres.sh; start_postgres`.
# Exports SWITCHBOARD_TEST_POSTGRES_URL (a superuser URL; each test creates its own database).

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  echo "$dir"
}

install_postgres() {
  if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
    echo "PostgreSQL is missing: installing it with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_postgres() {
  install_postgres
  local bin; bin=$(pg_bin)
  PG_TMP=$(mktemp -d /tmp/switchboard-pg.XXXXXX)
  PG_PORT=$(free_port)
  local as=()
  # Debian's PostgreSQL refuses to run as root: run it as the postgres user.
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$PG_TMP"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$PG_TMP/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log" >&2; return 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $PG_PORT -k $PG_TMP -c fsync=on -c max_connections=300" start >/dev/null \
    || { cat "$PG_TMP/server.log" >&2; return 1; }
  export SWITCHBOARD_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  echo "PostgreSQL for tests on 127.0.0.1:$PG_PORT ($PG_TMP)" >&2
}

stop_postgres() {
  [ -n "${PG_TMP:-}" ] || return 0
  local bin; bin=$(pg_bin)
  local as=()
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_TMP"
}
