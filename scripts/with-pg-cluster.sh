#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL cluster (scripts/pg-cluster.sh) in a temporary
# directory, its URL in LATCHKEY_TEST_POSTGRES_URL, so that the store suite runs against
# PostgreSQL as well as SQLite; the cluster is stopped and its directory removed when the command
# ends, whether it passed, failed or was interrupted.
#   scripts/with-pg-cluster.sh ctest --test-dir build --output-on-failure
# Without PostgreSQL 15 installed (scripts/install-deps.sh test installs it) the command runs
# without the cluster, saying so, unless LATCHKEY_PG=required (as `make test` sets), which fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG]..." >&2
  exit 2
fi

if [ ! -x "$PG_BIN/initdb" ]; then
  if [ "${LATCHKEY_PG:-}" = required ]; then
    echo "with-pg-cluster: PostgreSQL 15 is not installed; run scripts/install-deps.sh test" >&2
    exit 1
  fi
  echo "with-pg-cluster: PostgreSQL 15 is not installed, so the store suite runs against SQLite" \
       "only (scripts/install-deps.sh test installs it)" >&2
  exec "$@"
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-pg-XXXXXX")
cleanup() {
  "$here/pg-cluster.sh" stop "$dir" || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$here/pg-cluster.sh" start "$dir"
LATCHKEY_TEST_POSTGRES_URL=$("$here/pg-cluster.sh" url "$dir")
export LATCHKEY_TEST_POSTGRES_URL
echo "with-pg-cluster: PostgreSQL at $LATCHKEY_TEST_POSTGRES_URL"
# Not exec: the trap must run once the command is done.
"$@"
