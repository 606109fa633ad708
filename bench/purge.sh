#!/usr/bin/env bash
# The background purge of expired rows under load: client_credentials p99 on a database holding
# BENCH_PURGE_TOKENS tokens that expired two days ago, measured with the purge off
# (--purge-interval-s 0) and on (--purge-interval-s 1, so it starts at once and deletes
# through the whole run), each run on its own copy of the same database; then the same on a
# database of as many live tokens (with the purge on, a pass examines every row and deletes
# none).
# Prints one line per run and how many expired rows the purge deleted while measured.
#   BENCH_PURGE_TOKENS (1000000)  BENCH_SECONDS (20)  BENCH_CONNS (64)  BENCH_THREADS (2)
#   BENCH_PURGE_PORT (18434)  BENCH_PURGE_EXPIRED / BENCH_PURGE_LIVE (1; 0 skips that pair)
#   LATCHKEY_BIN (build/latchkey)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${LATCHKEY_BIN:-build/latchkey}")
N=${BENCH_PURGE_TOKENS:-1000000}
DURATION=${BENCH_SECONDS:-20}
CONNS=${BENCH_CONNS:-64}
THREADS=${BENCH_THREADS:-2}
PORT=${BENCH_PURGE_PORT:-18434}
LUA=$PWD/bench/wrk/flow.lua
command -v wrk >/dev/null || { echo "bench: wrk missing (scripts/install-deps.sh bench)" >&2; exit 1; }

TMP=$(mktemp -d /tmp/latchkey-purge.XXXXXX)
PID=""
# || true: under set -e a failing kill (the server already gone) would end the trap before rm.
trap '[ -n "$PID" ] && { kill -TERM "$PID" 2>/dev/null || true; }; rm -rf "$TMP"' EXIT
log() { printf 'bench: %s\n' "$*" >&2; }
field() { node -e 'const o=JSON.parse(process.argv[1]);process.stdout.write(String(o[process.argv[2]]))' "$1" "$2"; }
tokens() { /usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM tokens").fetchone()[0])' "$1"; }

# seed DB N [--expired]: the bench user, a client credentials app, N preloaded tokens
seed() {
  local lk="$BIN --db sqlite:$1"
  echo 'bench-Password-9!' | $lk user create --username alice@bench.local --password-stdin >/dev/null
  CC=$($lk app create --name cc --scopes api --client-credentials-user alice@bench.local)
  /usr/bin/python3 bench/lib/preload.py "$1" "$2" ${3:-}
}

# copy_db FROM TO: a second copy of a seeded database, with the key-encryption key file beside it
# (PATH.kek, which the seeding created; the signing keys in the copy are sealed under it)
copy_db() {
  cp "$1" "$2"
  cp "$1.kek" "$2.kek"
}

# run LABEL DB PURGE_INTERVAL_S: serve DB, warm up 2 s, measure client_credentials
run() {
  local label=$1 db=$2 interval=$3 auth before after
  auth="Basic $(printf '%s:%s' "$(field "$CC" client_id)" "$(field "$CC" client_secret)" | base64 -w0)"
  before=$(tokens "$db")
  "$BIN" --db "sqlite:$db" serve --listen 127.0.0.1:$PORT --quiet --purge-interval-s "$interval" \
    >"$TMP/serve.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do grep -q 'listening on' "$TMP/serve.log" && break; sleep 0.1; done
  grep -q 'listening on' "$TMP/serve.log" || { cat "$TMP/serve.log" >&2; exit 1; }
  export FLOW_METHOD=POST FLOW_PATH=/services/oauth2/token FLOW_EXPECT='"access_token"' \
    FLOW_AUTH=$auth FLOW_BODY=grant_type=client_credentials
  FLOW_OUT=$TMP/warm.json wrk -t"$THREADS" -c"$CONNS" -d2s --timeout 10s -s "$LUA" \
    http://127.0.0.1:$PORT >"$TMP/wrk.log" 2>&1 || { cat "$TMP/wrk.log" "$TMP/serve.log" >&2; exit 1; }
  FLOW_OUT=$TMP/run.json wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 10s -s "$LUA" \
    http://127.0.0.1:$PORT >"$TMP/wrk.log" 2>&1 || { cat "$TMP/wrk.log" "$TMP/serve.log" >&2; exit 1; }
  kill -TERM "$PID"; wait "$PID" || true; PID=""
  after=$(tokens "$db")
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const [label, before, after] = process.argv.slice(2);
    console.log(`${label.padEnd(40)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${(r.p50_us/1000).toFixed(2)} ms` +
      `  p99 ${(r.p99_us/1000).toFixed(2)} ms  p99.9 ${(r.p999_us/1000).toFixed(2)} ms  errors ${r.errors}` +
      `  token rows ${before} -> ${after}`);
  ' "$TMP/run.json" "$label" "$before" "$after"
}

if [ "${BENCH_PURGE_EXPIRED:-1}" = 1 ]; then
  log "seeding $N expired tokens"
  seed "$TMP/expired.db" "$N" --expired
  copy_db "$TMP/expired.db" "$TMP/expired-purged.db"
  run "$N expired, purge off" "$TMP/expired.db" 0
  run "$N expired, purge on" "$TMP/expired-purged.db" 1
fi
[ "${BENCH_PURGE_LIVE:-1}" = 1 ] || exit 0
log "seeding $N live tokens"
seed "$TMP/live.db" "$N"
copy_db "$TMP/live.db" "$TMP/live-purged.db"
run "$N live, purge off" "$TMP/live.db" 0
run "$N live, purge on (nothing to delete)" "$TMP/live-purged.db" 1
