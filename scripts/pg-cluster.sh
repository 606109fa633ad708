#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster for the tests, in a directory of its own:
#   scripts/pg-cluster.sh start DIR   # initdb in DIR/data (once) and start the server
#   scripts/pg-cluster.sh url DIR     # the server's URL: postgresql://latchkey@/postgres?host=DIR
#   scripts/pg-cluster.sh stop DIR    # stop it; does nothing when it is not running
# The server listens on a Unix socket in DIR only (no TCP port, so parallel clusters never clash),
# trusts local connections (the socket's directory is the owner's alone) and commits durably
# (fsync and synchronous_commit on, as a production server would). PostgreSQL refuses to run as
# root: run as root, the cluster belongs to the `postgres` user of Debian's package and DIR is
# handed to it; run as anyone else, it is theirs. The binaries are Debian's
# (scripts/install-deps.sh test installs them).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
SUPERUSER=latchkey

usage() {
  echo "usage: $0 start|stop|url DIR" >&2
  exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2
case "$dir" in
  /*) ;;
  *) dir=$PWD/$dir ;;
esac
# The URL carries DIR as is, and the socket's path must fit in sockaddr_un (107 bytes).
if [[ ! "$dir" =~ ^[A-Za-z0-9/._-]+$ ]]; then
  echo "pg-cluster: DIR may hold only letters, digits and / . _ - : $dir" >&2
  exit 2
fi
if [ $(( ${#dir} + 18 )) -gt 107 ]; then
  echo "pg-cluster: DIR is too long for a Unix socket path: $dir" >&2
  exit 2
fi

# Runs a PostgreSQL program as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() {
  [ -f "$dir/data/postmaster.pid" ] && as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

case "$cmd" in
  start)
    if [ ! -x "$PG_BIN/initdb" ]; then
      echo "pg-cluster: $PG_BIN/initdb not found; run scripts/install-deps.sh test" >&2
      exit 1
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
      if ! getent passwd postgres >/dev/null; then
        echo "pg-cluster: no 'postgres' user to run the server as (Debian's postgresql creates it)" >&2
        exit 1
      fi
      chown postgres: "$dir"
    fi
    chmod 700 "$dir"
    if ! as_owner test -w "$dir"; then
      echo "pg-cluster: the server's user cannot write $dir (a parent directory closed to it?)" >&2
      exit 1
    fi
    if running; then
      echo "pg-cluster: already running in $dir"
      exit 0
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      # --no-sync: initdb's own files need not survive a power cut, the server's commits do.
      as_owner "$PG_BIN/initdb" -D "$dir/data" -U "$SUPERUSER" --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 --no-sync --no-instructions >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
      }
      cat >>"$dir/data/postgresql.conf" <<EOF
# scripts/pg-cluster.sh
listen_addresses = ''
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
max_connections = 300
EOF
    fi
    if ! as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then
      cat "$dir/server.log" >&2 || true
      exit 1
    fi
    ;;
  stop)
    if running; then
      as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
    ;;
  url)
    echo "postgresql://$SUPERUSER@/postgres?host=$dir"
    ;;
  *)
    usage
    ;;
esac
