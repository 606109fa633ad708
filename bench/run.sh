#!/usr/bin/env bash
# make bench: latchkey (fresh SQLite database, one preloaded with live tokens, and one node and
# two nodes on a throw-away PostgreSQL cluster) against node-oidc-provider, the same load
# generator and flows, each flow measured on each server in turn; then how long a revocation at
# one PostgreSQL node takes to reach the other under load. Prints one table, writes
# bench/results/latest.{md,json}. Exits non-zero if any run had an error. See bench/README.md.
#   BENCH_SECONDS (10)  measured seconds per flow and server
#   BENCH_WARMUP  (2)   warm-up seconds before each measured run (results discarded)
#   BENCH_CONNS   (64)  wrk connections;  BENCH_THREADS (2) wrk threads
#   BENCH_WEB_CONCURRENCY (8)  parallel browserless web server flows
#   BENCH_SCALE_TOKENS (1000000)  live tokens preloaded for the scale run; 0 skips it
#   BENCH_POSTGRES (1)  0 skips the PostgreSQL nodes (latchkey@pg, latchkey@pg×2)
#   BENCH_REVOCATIONS (20)  revocations whose propagation between the two nodes is timed
#   BENCH_ROUNDS  (3)   rounds of the flows with a PostgreSQL target (client_credentials refresh
#                 introspection userinfo code), each server measured in every round; the table
#                 gives the median of the rounds (bench/README.md, "Rounds")
#   BENCH_FLOWS   (every flow)  only these flows, space-separated (client_credentials refresh
#                 introspection userinfo code code_openid refresh_openid web_server_flow
#                 jwt_bearer password): a quicker run while working on one; the targets of flows left
#                 out are not reported, and the results go to bench/results/partial/
#   LATCHKEY_BIN  (build/latchkey)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$(realpath "${LATCHKEY_BIN:-build/latchkey}")
DURATION=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNS:-64}
THREADS=${BENCH_THREADS:-2}
WEB_CONC=${BENCH_WEB_CONCURRENCY:-8}
LK_PORT=${BENCH_LATCHKEY_PORT:-18431}
PEER_PORT=${BENCH_PEER_PORT:-18432}
SCALE_PORT=${BENCH_SCALE_PORT:-18433}
PG_PORT=${BENCH_PG_PORT:-18435}
PG2_PORT=${BENCH_PG2_PORT:-18436}
POSTGRES=${BENCH_POSTGRES:-1}
REVOCATIONS=${BENCH_REVOCATIONS:-20}
ROUNDS=${BENCH_ROUNDS:-3}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_ROUNDS must be a whole number of at least 1, not '$ROUNDS'" >&2; exit 2; }
ROUND=1  # the round being measured (see the flows' loops)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
CB=http://127.0.0.1:9/cb
CB_ENC=http%3A%2F%2F127.0.0.1%3A9%2Fcb
CLIENT="node $ROOT/bench/lib/client.mjs"
LUA=$ROOT/bench/wrk/flow.lua
TCK=$(getconf CLK_TCK)

command -v wrk >/dev/null || { echo "bench: wrk missing (scripts/install-deps.sh bench)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "bench: $BIN missing (make build)" >&2; exit 1; }
if [ "$POSTGRES" != 0 ] && [ ! -x "$PG_BIN/initdb" ]; then
  echo "bench: PostgreSQL 15 missing (scripts/install-deps.sh bench), or BENCH_POSTGRES=0 to skip it" >&2
  exit 1
fi

# The peer is pinned by bench/package-lock.json; reinstall only when it changed.
stamp=bench/node_modules/.lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s bench/package-lock.json "$stamp"; then
  echo "bench: npm ci in bench/"
  (cd bench && npm ci --no-audit --no-fund --loglevel=error)
  cp bench/package-lock.json "$stamp"
fi

TMP=$(mktemp -d /tmp/latchkey-bench.XXXXXX)
RESULTS=$TMP/results.ndjson
: >"$RESULTS"
SERVER_PID=""  # the server being measured (see use)
ALL_PIDS=()   # servers, and the load of the revocation probe while it runs
PG_DIR=""     # the throw-away PostgreSQL cluster, once started
stop_servers() {
  local pid
  for pid in "${ALL_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${ALL_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  ALL_PIDS=()
}
cleanup() {
  stop_servers
  if [ -n "$PG_DIR" ]; then
    "$ROOT/scripts/pg-cluster.sh" stop "$PG_DIR" || true
    rm -rf "$PG_DIR"
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
# An interrupted run still stops the cluster and removes it (the EXIT trap).
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf 'bench: %s\n' "$*" >&2; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# The PostgreSQL cluster's CPU ticks: the postmaster's and its children's (the backends of the
# nodes' connections, which stay open, the WAL writer, the checkpointer).
db_ticks() {
  local pm p v t=0
  pm=$(head -1 "$PG_DIR/data/postmaster.pid")
  for p in "$pm" $(pgrep -P "$pm"); do
    v=$(cpu_ticks "$p" 2>/dev/null) || v=0  # a process may have ended meanwhile
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
wait_listening() { # LOGFILE PID
  for _ in $(seq 1 100); do
    grep -q 'listening on' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { cat "$1" >&2; return 1; }
    sleep 0.1
  done
  cat "$1" >&2; return 1
}
json_field() { node -e 'const o=JSON.parse(require("fs").readFileSync(0,"utf8"));process.stdout.write(String(o[process.argv[1]]??""))' "$1"; }

# wrk_run SECONDS OUTFILE URL (flow configured through FLOW_* in the environment; THREADS and
# CONNS may be set for one call)
wrk_run() {
  FLOW_OUT=$2 WRK_THREADS=$THREADS wrk -t"$THREADS" -c"$CONNS" -d"$1"s --timeout 10s --latency -s "$LUA" "$3" \
    >"$2.log" 2>&1 || { cat "$2.log" >&2; echo '{"requests":0,"ok":0,"errors":1,"first_error":"wrk failed"}' >"$2"; }
}

# The wrk load split between two nodes: node A gets half the connections and threads (rounded
# up), node B the rest (at least one thread), both started together.
SPLIT_CONNS_A=$(( (CONNS + 1) / 2 )); SPLIT_CONNS_B=$(( CONNS / 2 ))
SPLIT_THREADS_A=$(( (THREADS + 1) / 2 )); SPLIT_THREADS_B=$(( THREADS > 1 ? THREADS / 2 : 1 ))

# wrk_pair SECONDS OUTFILE URL_A URL_B: one wrk per node at once; OUTFILE gets their results
# combined: counts and req/s summed, each latency percentile the worse of the two.
wrk_pair() {
  local a b
  THREADS=$SPLIT_THREADS_A CONNS=$SPLIT_CONNS_A wrk_run "$1" "$2.a" "$3" & a=$!
  THREADS=$SPLIT_THREADS_B CONNS=$SPLIT_CONNS_B wrk_run "$1" "$2.b" "$4" & b=$!
  wait "$a"; wait "$b"
  node -e '
    const fs = require("fs");
    const [a, b] = process.argv.slice(1, 3).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
    const sum = (k) => (a[k] ?? 0) + (b[k] ?? 0);
    const max = (k) => Math.max(a[k] ?? 0, b[k] ?? 0);
    fs.writeFileSync(process.argv[3], JSON.stringify({
      requests: sum("requests"), ok: sum("ok"), errors: sum("errors"), socket_errors: sum("socket_errors"),
      exhausted: sum("exhausted"), rps: sum("rps"), p50_us: max("p50_us"), p99_us: max("p99_us"),
      p999_us: max("p999_us"), duration_s: max("duration_s"), first_error: a.first_error ?? b.first_error ?? null,
      nodes: [a, b] }) + "\n");
  ' "$2.a" "$2.b" "$2"
}

# record FLOW SERVER RESULT_JSON CPU_S PEAK_KB [DB_CPU_S]: one run's line, of round ROUND
record() {
  node -e '
    const [flow, server, file, cpu, rss, round, dbCpu] = process.argv.slice(1);
    const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
    const exhausted = r.exhausted || 0;
    console.log(JSON.stringify({ flow, server, round: Number(round), ...r, cpu_s: Number(cpu), peak_rss_kb: Number(rss),
      req_per_cpu_s: Number(cpu) > 0 ? r.ok / Number(cpu) : null,
      ...(dbCpu ? { db_cpu_s: Number(dbCpu) } : {}),
      ...(exhausted ? { first_error: `pre-minted codes exhausted (${exhausted} requests without a code)` } : {}) }));
  ' "$1" "$2" "$3" "$4" "$5" "$ROUND" "${6:-}" >>"$RESULTS"
  local line; line=$(tail -1 "$RESULTS")
  log "$(printf 'round %s  %-18s %-14s %s' "$ROUND" "$1" "$2" "$(echo "$line" | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));process.stdout.write(`${r.rps.toFixed(0)} req/s p99 ${(r.p99_us/1000).toFixed(2)} ms errors ${r.errors}${r.first_error?" ("+r.first_error+")":""}`)')")"
}

# measure FLOW SERVER URL [CODEFILE-for-main-run]: warm-up, then measured run with CPU and peak
# RSS. With a second node in use (PAIR_URL, PAIR_PID), both are driven at once (wrk_pair): CPU
# is the two processes' sum, peak RSS the larger of the two. On PostgreSQL, the cluster's CPU
# over the run as well.
measure() {
  local flow=$1 server=$2 url=$3 pid
  local pids=("$SERVER_PID")
  [ -n "$PAIR_URL" ] && pids+=("$PAIR_PID")
  local on_pg=0
  [[ "${S_DB[$CUR]:-}" == postgresql:* ]] && on_pg=1
  if [ "$WARMUP" -gt 0 ] && [ -z "${FLOW_CODES:-}" ]; then load "$WARMUP" "$TMP/warm.json" "$url"; fi
  for pid in "${pids[@]}"; do echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true; done  # reset VmHWM
  local c0=0 c1=0 hwm=0 h d0=0 d1=0 db_cpu=""
  for pid in "${pids[@]}"; do c0=$((c0 + $(cpu_ticks "$pid"))); done
  [ "$on_pg" = 1 ] && d0=$(db_ticks)
  load "$DURATION" "$TMP/run.json" "$url"
  [ "$on_pg" = 1 ] && d1=$(db_ticks)
  for pid in "${pids[@]}"; do
    c1=$((c1 + $(cpu_ticks "$pid")))
    h=$(awk '/VmHWM/{print $2}' "/proc/$pid/status"); [ "$h" -gt "$hwm" ] && hwm=$h
  done
  [ "$on_pg" = 1 ] && db_cpu=$(awk -v a="$d0" -v b="$d1" -v t="$TCK" 'BEGIN{printf "%.2f", (b-a)/t}')
  record "$flow" "$server" "$TMP/run.json" "$(awk -v a="$c0" -v b="$c1" -v t="$TCK" 'BEGIN{printf "%.2f", (b-a)/t}')" "$hwm" "$db_cpu"
}
# load SECONDS OUTFILE URL: wrk against the server in use, or against both nodes of a pair
load() {
  if [ -n "$PAIR_URL" ]; then wrk_pair "$1" "$2" "$3" "$PAIR_URL"; else wrk_run "$@"; fi
}

# code_flow FLOW SERVER URL MINT_FN: measures the exchange rate on probe codes during the
# warm-up (a probe used up before the warm-up ends says only "faster than this", so it is
# retried three times larger), mints enough codes for the measured run, then measures. A server
# can run faster measured than warming up (the peer's JIT): if the codes ran out, the run is
# discarded and measured again with twice as many.
code_flow() {
  local flow=$1 server=$2 url=$3 mint=$4
  local probe=${BENCH_PROBE_CODES:-6000} rate exh
  for _ in 1 2 3; do
    $mint "$probe" "$TMP/probe.codes"
    FLOW_CODES=$TMP/probe.codes wrk_run "$WARMUP" "$TMP/warm.json" "$url"
    rate=$(json_field rps <"$TMP/warm.json")
    exh=$(json_field exhausted <"$TMP/warm.json")
    [ "${exh:-0}" -gt 0 ] || break
    probe=$((probe * 3))
  done
  # Half as many again as the warm-up rate needs, and never fewer than the last probe.
  local n; n=$(awk -v r="$rate" -v p="$probe" -v d="$DURATION" \
    'BEGIN{ n = int(r * d * 1.5) + 1000; if (n < p) n = p; print n }')
  for attempt in 1 2 3; do
    log "$flow/$server: exchange warm-up ${rate} req/s; minting $n codes"
    $mint "$n" "$TMP/run.codes"
    FLOW_CODES=$TMP/run.codes measure "$flow" "$server" "$url"
    exh=$(tail -1 "$RESULTS" | json_field exhausted)
    [ "${exh:-0}" -gt 0 ] && [ "$attempt" -lt 3 ] || break
    log "$flow/$server: the $n codes ran out; measuring again with more"
    sed -i '$d' "$RESULTS"
    n=$((n * 2))
  done
}

# web_flow FLOW SERVER ARGS...: the Node client runs whole flows (its own warm-up inside)
web_flow() {
  local flow=$1 server=$2; shift 2
  echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || true
  local c0; c0=$(cpu_ticks "$SERVER_PID")
  $CLIENT webflow "$@" "$DURATION" "$WEB_CONC" 0 >"$TMP/run.json" \
    || echo '{"requests":0,"ok":0,"errors":1,"rps":0,"first_error":"web flow client failed"}' >"$TMP/run.json"
  local c1; c1=$(cpu_ticks "$SERVER_PID")
  local hwm; hwm=$(awk '/VmHWM/{print $2}' "/proc/$SERVER_PID/status")
  record "$flow" "$server" "$TMP/run.json" "$(awk -v a="$c0" -v b="$c1" -v t="$TCK" 'BEGIN{printf "%.2f", (b-a)/t}')" "$hwm"
}

basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }
field() { node -e 'const o=JSON.parse(process.argv[1]);process.stdout.write(String(o[process.argv[2]]))' "$1" "$2"; }

# ---- RSA-2048 sign rate of one core, same run ---------------------------------------------------
log "openssl speed rsa2048 (one core)"
SIGN_RATE=$(openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa +2048 bits/{print $(NF-1)}')
log "RSA-2048 sign/s: $SIGN_RATE"

# ---- the servers -----------------------------------------------------------------------------
# latchkey on a fresh database, latchkey on a database preloaded with many live tokens, and the
# peer all run for the whole bench, idle but for the one being measured, and every flow is
# measured on them one right after another. A ratio thus compares runs made within a minute of
# each other, not runs minutes apart on a machine whose speed drifts (it does: the peer's rate
# moved by half between runs of one morning).
BUSER=alice@bench.local
PASS='bench-Password-9!'
TOKEN_PATH=/services/oauth2/token
SCALE_TOKENS=${BENCH_SCALE_TOKENS:-1000000}
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/jwt.key" -out "$TMP/jwt.crt" -days 2 \
  -subj /CN=bench-jwt >/dev/null 2>&1

declare -A S_PID S_URL S_NAME S_DB S_KEK S_PAIR S_WEB_ID S_WEB_SECRET S_CC_ID S_CC_SECRET S_JWT_ID \
  S_PW_AUTH

# lk_args SLOT: LK_ARGS becomes the global options naming SLOT's database (and, for PostgreSQL,
# the key-encryption key file, which every node of one database shares).
lk_args() {
  LK_ARGS=(--db "${S_DB[$1]}")
  [ -n "${S_KEK[$1]:-}" ] && LK_ARGS+=(--key-encryption-key-file "${S_KEK[$1]}")
  return 0
}

# lk_setup SLOT DB_URL [KEK_FILE]: the bench user and apps in a fresh database, through the CLI.
lk_setup() {
  local slot=$1 web cc jwtapp pw
  S_DB[$slot]=$2; S_KEK[$slot]=${3:-}
  lk_args "$slot"
  echo "$PASS" | "$BIN" "${LK_ARGS[@]}" user create --username $BUSER --password-stdin --name "Alice Bench" --email $BUSER >/dev/null
  web=$("$BIN" "${LK_ARGS[@]}" app create --name web --callback $CB --scopes "api refresh_token openid profile email")
  cc=$("$BIN" "${LK_ARGS[@]}" app create --name cc --scopes "api" --client-credentials-user $BUSER)
  jwtapp=$("$BIN" "${LK_ARGS[@]}" app create --name jwt --scopes "api" --cert "$TMP/jwt.crt" --permitted-users admin-approved)
  "$BIN" "${LK_ARGS[@]}" app preauthorize --client-id "$(field "$jwtapp" client_id)" --profile "Standard User" >/dev/null
  pw=$("$BIN" "${LK_ARGS[@]}" app create --name pw --scopes "api" --allow-password-flow)
  S_PW_AUTH[$slot]=$(basic "$(field "$pw" client_id)" "$(field "$pw" client_secret)")
  S_WEB_ID[$slot]=$(field "$web" client_id); S_WEB_SECRET[$slot]=$(field "$web" client_secret)
  S_CC_ID[$slot]=$(field "$cc" client_id); S_CC_SECRET[$slot]=$(field "$cc" client_secret)
  S_JWT_ID[$slot]=$(field "$jwtapp" client_id)
}

# lk_share SLOT FROM: SLOT serves FROM's database (another node of it), with the same apps.
lk_share() {
  local slot=$1 from=$2
  S_DB[$slot]=${S_DB[$from]}; S_KEK[$slot]=${S_KEK[$from]}
  S_WEB_ID[$slot]=${S_WEB_ID[$from]}; S_WEB_SECRET[$slot]=${S_WEB_SECRET[$from]}
  S_CC_ID[$slot]=${S_CC_ID[$from]}; S_CC_SECRET[$slot]=${S_CC_SECRET[$from]}
  S_JWT_ID[$slot]=${S_JWT_ID[$from]}; S_PW_AUTH[$slot]=${S_PW_AUTH[$from]}
}

# lk_start SLOT PORT NAME: latchkey serving SLOT's database on PORT.
lk_start() {
  local slot=$1 port=$2 name=$3
  lk_args "$slot"
  "$BIN" "${LK_ARGS[@]}" serve --listen 127.0.0.1:$port --quiet >"$TMP/$slot.log" 2>&1 &
  S_PID[$slot]=$!
  ALL_PIDS+=("$!")
  wait_listening "$TMP/$slot.log" "${S_PID[$slot]}"
  S_URL[$slot]=http://127.0.0.1:$port
  S_NAME[$slot]=$name
  log "$name: latchkey $(git describe --always --dirty 2>/dev/null || echo '?') on ${S_URL[$slot]} (pid ${S_PID[$slot]})"
}

LK_SLOTS=(lk)
lk_setup lk "sqlite:$TMP/bench.db"
lk_start lk "$LK_PORT" latchkey
if [ "$SCALE_TOKENS" -gt 0 ]; then
  lk_setup scale "sqlite:$TMP/scale.db"
  log "preloading $SCALE_TOKENS live tokens"
  /usr/bin/python3 bench/lib/preload.py "$TMP/scale.db" "$SCALE_TOKENS"
  lk_start scale "$SCALE_PORT" "latchkey@${SCALE_TOKENS}"
  LK_SLOTS+=(scale)
fi
# Two nodes on one database of a throw-away PostgreSQL cluster (durable: fsync and
# synchronous_commit on), with one key-encryption key file. Measured alone, the first node is
# latchkey@pg; driven together with the second, latchkey@pg×2 (slot pgx2, see use).
PG_SLOTS=()
PG_VERSION=""
if [ "$POSTGRES" != 0 ]; then
  PG_DIR=$(mktemp -d /tmp/latchkey-bench-pg.XXXXXX)
  "$ROOT/scripts/pg-cluster.sh" start "$PG_DIR"
  # A production cluster reuses its WAL segments after each checkpoint; a fresh one creates a
  # segment every second or so under this load, and zero-filling each one (wal_init_zero) stalls
  # the commits waiting on it. Not zero-filling measures the steady state; every commit is still
  # flushed (fsync and synchronous_commit stay on).
  "$PG_BIN/psql" -q -X "$("$ROOT/scripts/pg-cluster.sh" url "$PG_DIR")" \
    -c "ALTER SYSTEM SET wal_init_zero = off" -c "SELECT pg_reload_conf()" >/dev/null
  PG_VERSION=$("$PG_BIN/postgres" --version | awk '{print $3}')
  log "PostgreSQL $PG_VERSION in $PG_DIR"
  lk_setup pg "$("$ROOT/scripts/pg-cluster.sh" url "$PG_DIR")" "$TMP/pg.kek"
  lk_start pg "$PG_PORT" latchkey@pg
  lk_share pg2 pg
  lk_start pg2 "$PG2_PORT" "latchkey@pg node B"
  lk_share pgx2 pg
  S_PID[pgx2]=${S_PID[pg]}; S_URL[pgx2]=${S_URL[pg]}; S_NAME[pgx2]="latchkey@pg×2"; S_PAIR[pgx2]=pg2
  PG_SLOTS=(pg)
fi
NODE_ENV=production PORT=$PEER_PORT node bench/peer/oidc-provider.mjs >"$TMP/peer.log" 2>&1 &
S_PID[peer]=$!
ALL_PIDS+=("$!")
wait_listening "$TMP/peer.log" "${S_PID[peer]}"
S_URL[peer]=http://127.0.0.1:$PEER_PORT
S_NAME[peer]=oidc-provider
PEER_VERSION=$(node -p 'require("./bench/node_modules/oidc-provider/package.json").version')
log "oidc-provider $PEER_VERSION on ${S_URL[peer]} (pid ${S_PID[peer]})"

# Let start-up work settle before the first measurement (the peer's module loading, the
# preloaded database's writes reaching the disk).
sleep 3

# use SLOT: the server the next measurement is for; sets what the flows below need of it. A slot
# with a pair (pgx2) is its first node, driven together with the second (see measure).
PAIR_URL=""; PAIR_PID=""
use() {
  CUR=$1
  SERVER_PID=${S_PID[$1]}
  URL=${S_URL[$1]}
  NAME=${S_NAME[$1]}
  PAIR_URL=""; PAIR_PID=""
  if [ -n "${S_PAIR[$1]:-}" ]; then PAIR_URL=${S_URL[${S_PAIR[$1]}]}; PAIR_PID=${S_PID[${S_PAIR[$1]}]}; fi
  if [ "$1" = peer ]; then
    TOKEN_EP=/token; INTROSPECT_EP=/token/introspection; USERINFO_EP=/me
    WEB_ID=web; WEB_SECRET=web-secret; CC_AUTH=$(basic cc cc-secret)
  else
    TOKEN_EP=$TOKEN_PATH; INTROSPECT_EP=/services/oauth2/introspect
    USERINFO_EP=/services/oauth2/userinfo
    WEB_ID=${S_WEB_ID[$1]}; WEB_SECRET=${S_WEB_SECRET[$1]}
    CC_AUTH=$(basic "${S_CC_ID[$1]}" "${S_CC_SECRET[$1]}")
  fi
  WEB_AUTH=$(basic "$WEB_ID" "$WEB_SECRET")
}

# mint N FILE [openid]: N codes for the web client of the current server, one a line
mint() {
  if [ "$CUR" = peer ]; then
    local scope=api
    [ "${3:-}" = openid ] && scope="openid profile email offline_access"
    $CLIENT peer-codes "$URL" "$scope" "$1" "$2"
  else
    local scope="api refresh_token"
    [ "${3:-}" = openid ] && scope="api refresh_token openid profile email"
    $CLIENT mint-codes "$URL" "$WEB_ID" $BUSER "$PASS" "$scope" "$1" "$2"
  fi
}
mint_plain() { mint "$1" "$2"; }
mint_openid() { mint "$1" "$2" openid; }

# web_token [openid]: one code minted and exchanged on the current server; the token response
web_token() {
  mint 1 "$TMP/one.codes" "${1:-}" >&2
  $CLIENT token "$URL" "$TOKEN_EP" "$WEB_ID" "$WEB_SECRET" grant_type=authorization_code \
    code="$(head -1 "$TMP/one.codes")" redirect_uri=$CB
}

# One function per flow, measuring the current server (see use).
flow_client_credentials() {
  FLOW_METHOD=POST FLOW_PATH=$TOKEN_EP FLOW_EXPECT='"access_token"' FLOW_AUTH=$CC_AUTH \
    FLOW_BODY='grant_type=client_credentials' measure client_credentials "$NAME" "$URL"
}
flow_refresh() {
  local t; t=$(web_token)
  FLOW_METHOD=POST FLOW_PATH=$TOKEN_EP FLOW_EXPECT='"access_token"' FLOW_AUTH=$WEB_AUTH \
    FLOW_BODY="grant_type=refresh_token&refresh_token=$(field "$t" refresh_token)" \
    measure refresh "$NAME" "$URL"
}
flow_introspection() {
  local t; t=$(web_token openid)
  FLOW_METHOD=POST FLOW_PATH=$INTROSPECT_EP FLOW_EXPECT='"active":true' FLOW_AUTH=$WEB_AUTH \
    FLOW_BODY="token=$(field "$t" access_token)" measure introspection "$NAME" "$URL"
}
flow_userinfo() {
  local t; t=$(web_token openid)
  FLOW_METHOD=GET FLOW_PATH=$USERINFO_EP FLOW_EXPECT='"preferred_username"' FLOW_BODY= \
    FLOW_AUTH="Bearer $(field "$t" access_token)" measure userinfo "$NAME" "$URL"
}
flow_code() {
  FLOW_METHOD=POST FLOW_PATH=$TOKEN_EP FLOW_EXPECT='"access_token"' FLOW_AUTH=$WEB_AUTH \
    FLOW_BODY="grant_type=authorization_code&code=CODE&redirect_uri=$CB_ENC" \
    code_flow code "$NAME" "$URL" mint_plain
}
flow_code_openid() {
  FLOW_METHOD=POST FLOW_PATH=$TOKEN_EP FLOW_EXPECT='"id_token"' FLOW_AUTH=$WEB_AUTH \
    FLOW_BODY="grant_type=authorization_code&code=CODE&redirect_uri=$CB_ENC" \
    code_flow code_openid "$NAME" "$URL" mint_openid
}
flow_refresh_openid() {
  local t; t=$(web_token openid)
  FLOW_METHOD=POST FLOW_PATH=$TOKEN_EP FLOW_EXPECT='"id_token"' FLOW_AUTH=$WEB_AUTH \
    FLOW_BODY="grant_type=refresh_token&refresh_token=$(field "$t" refresh_token)" \
    measure refresh_openid "$NAME" "$URL"
}
flow_jwt_bearer() {  # latchkey only: oidc-provider has no JWT bearer grant
  local assertion; assertion=$($CLIENT jwt "$TMP/jwt.key" "${S_JWT_ID[$CUR]}" $BUSER "$URL")
  FLOW_METHOD=POST FLOW_PATH=$TOKEN_EP FLOW_EXPECT='"access_token"' FLOW_AUTH= \
    FLOW_BODY="grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=$assertion" \
    measure jwt_bearer "$NAME" "$URL"
}
flow_password() {  # latchkey only: oidc-provider has no password grant (OAuth 2.1 drops it)
  local pass; pass=$(node -p 'encodeURIComponent(process.argv[1])' "$PASS")
  # Each request hashes a password for tens of ms: 64 connections would only queue, so the web
  # flow's concurrency (seen by measure through bash's dynamic scope).
  local CONNS=$WEB_CONC
  FLOW_METHOD=POST FLOW_PATH=$TOKEN_EP FLOW_EXPECT='"access_token"' FLOW_AUTH=${S_PW_AUTH[$CUR]} \
    FLOW_BODY="grant_type=password&username=$BUSER&password=$pass" measure password "$NAME" "$URL"
}
flow_web_server_flow() {
  if [ "$CUR" = peer ]; then
    web_flow web_server_flow "$NAME" "$URL" /auth /token web web-secret alice any-password \
      "openid profile email offline_access"
  else
    web_flow web_server_flow "$NAME" "$URL" /services/oauth2/authorize $TOKEN_PATH "$WEB_ID" \
      "$WEB_SECRET" $BUSER "$PASS" "api refresh_token openid profile email"
  fi
}

# The flows whose cost may depend on the token table on both latchkey databases, the others on
# the fresh one; each on the peer right after, then on PostgreSQL: one node, and for
# client_credentials and introspection two nodes at once. The flows with a PostgreSQL target
# are measured ROUNDS times, one round after the other, each server in every round: on this
# machine one run of a server can be a fifth off another of the same build, the peer's as much
# as latchkey's, and the median of the rounds lets one slow run decide nothing.
# wanted FLOW: FLOW is among BENCH_FLOWS (or that is unset).
wanted() { [ -z "${BENCH_FLOWS:-}" ] || [[ " $BENCH_FLOWS " == *" $1 "* ]]; }
for ROUND in $(seq 1 "$ROUNDS"); do
  for flow in client_credentials refresh introspection userinfo; do
    wanted "$flow" || continue
    for slot in "${LK_SLOTS[@]}" peer "${PG_SLOTS[@]}"; do use "$slot"; "flow_$flow"; done
    if [ "$POSTGRES" != 0 ] && { [ "$flow" = client_credentials ] || [ "$flow" = introspection ]; }; then
      use pgx2; "flow_$flow"
    fi
  done
  if wanted code; then
    for slot in lk peer "${PG_SLOTS[@]}"; do use "$slot"; flow_code; done
  fi
done
ROUND=1
for flow in code_openid refresh_openid web_server_flow; do
  wanted "$flow" || continue
  for slot in lk peer; do use "$slot"; "flow_$flow"; done
  if [ "$POSTGRES" != 0 ] && [ "$flow" = code_openid ]; then
    use pg; "flow_$flow"
  fi
done
if wanted jwt_bearer; then use lk; flow_jwt_bearer; fi
if wanted password; then use lk; flow_password; fi

# ---- revocation between two nodes -------------------------------------------------------------
# While client_credentials load runs against both PostgreSQL nodes (split as in latchkey@pg×2),
# client.mjs revocation-delay issues a token at node A, introspects it once at node B (which then
# holds it in its cache), revokes it at A and polls introspection at B every 5 ms until B says
# active:false, BENCH_REVOCATIONS times; the delays count from A's answer to the revocation.
REVOCATION_FILE=""
if [ "$POSTGRES" != 0 ] && [ "$REVOCATIONS" -gt 0 ]; then
  use pgx2
  log "revocation A -> B under client_credentials load on both nodes ($REVOCATIONS revocations)"
  export FLOW_METHOD=POST FLOW_PATH=$TOKEN_EP FLOW_EXPECT='"access_token"' FLOW_AUTH=$CC_AUTH \
    FLOW_BODY='grant_type=client_credentials' FLOW_CODES=
  # wrk itself in the background (not wrk_run, a subshell), so that $! is the process to stop;
  # 3600 s is only a bound: SIGINT ends both once the probe is done, and wrk then reports.
  FLOW_OUT=$TMP/revload.a.json WRK_THREADS=$SPLIT_THREADS_A wrk -t"$SPLIT_THREADS_A" \
    -c"$SPLIT_CONNS_A" -d3600s --timeout 10s -s "$LUA" "$URL" >"$TMP/revload.a.log" 2>&1 &
  load_a=$!; ALL_PIDS+=("$load_a")
  FLOW_OUT=$TMP/revload.b.json WRK_THREADS=$SPLIT_THREADS_B wrk -t"$SPLIT_THREADS_B" \
    -c"$SPLIT_CONNS_B" -d3600s --timeout 10s -s "$LUA" "$PAIR_URL" >"$TMP/revload.b.log" 2>&1 &
  load_b=$!; ALL_PIDS+=("$load_b")
  unset FLOW_METHOD FLOW_PATH FLOW_EXPECT FLOW_AUTH FLOW_BODY FLOW_CODES
  sleep "$WARMUP"
  probe_ok=1
  $CLIENT revocation-delay "$URL" "$PAIR_URL" "${S_CC_ID[pgx2]}" "${S_CC_SECRET[pgx2]}" "$REVOCATIONS" \
    "$TMP/revocation.json" || probe_ok=0
  kill -INT "$load_a" "$load_b" 2>/dev/null || true
  wait "$load_a" || true; wait "$load_b" || true
  ALL_PIDS=("${ALL_PIDS[@]:0:${#ALL_PIDS[@]}-2}")
  [ "$probe_ok" = 1 ] || echo '{"count":0,"errors":1,"first_error":"revocation-delay client failed"}' >"$TMP/revocation.json"
  # The load's own figures, for the line under the table.
  node -e '
    const fs = require("fs");
    const [file, a, b] = process.argv.slice(1);
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    const read = (f) => { try { return JSON.parse(fs.readFileSync(f, "utf8")); } catch { return null; } };
    const loads = [read(a), read(b)];
    r.load = loads.every(Boolean)
      ? { flow: "client_credentials", rps: loads[0].rps + loads[1].rps, errors: loads[0].errors + loads[1].errors,
          p99_us: Math.max(loads[0].p99_us, loads[1].p99_us), first_error: loads[0].first_error ?? loads[1].first_error }
      : { flow: "client_credentials", rps: 0, errors: 1, first_error: "the load generator reported nothing" };
    fs.writeFileSync(file, JSON.stringify(r) + "\n");
  ' "$TMP/revocation.json" "$TMP/revload.a.json" "$TMP/revload.b.json"
  log "revocation A -> B: $(node -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    process.stdout.write(r.count ? `median ${r.median_ms.toFixed(1)} ms, max ${r.max_ms.toFixed(1)} ms over ${r.count}` : "no result");
    process.stdout.write(`; load ${r.load.rps.toFixed(0)} req/s, errors ${r.errors + r.load.errors}`);
  ' <"$TMP/revocation.json")"
  REVOCATION_FILE=$TMP/revocation.json
fi
stop_servers

# ---- report -------------------------------------------------------------------------------------
# A run of some flows only does not replace the full run's results.
OUT_DIR=bench/results
[ -n "${BENCH_FLOWS:-}" ] && OUT_DIR=bench/results/partial
mkdir -p "$OUT_DIR"
node bench/lib/report.mjs "$RESULTS" "$OUT_DIR" \
  "sign_rate=$SIGN_RATE" "cores=$(nproc)" "seconds=$DURATION" "warmup=$WARMUP" "conns=$CONNS" "threads=$THREADS" \
  "web_concurrency=$WEB_CONC" "rounds=$ROUNDS" "scale_tokens=$SCALE_TOKENS" "latchkey_commit=$(git describe --always --dirty 2>/dev/null || echo unknown)" \
  "peer=oidc-provider $PEER_VERSION" "node=$(node --version)" "wrk=$(wrk -v 2>&1 | head -1 | awk '{print $2}')" \
  "openssl=$(openssl version | awk '{print $2}')" "postgres=$PG_VERSION" "revocation=$REVOCATION_FILE"
