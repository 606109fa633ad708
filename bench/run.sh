#!/usr/bin/env bash
# make bench: latchkey (fresh SQLite database, and one preloaded with live tokens) against
# node-oidc-provider, the same load generator and flows, each flow measured on each server in
# turn; prints one table, writes bench/results/latest.{md,json}.
# Exits non-zero if any run had an error. See bench/README.md.
#   BENCH_SECONDS (10)  measured seconds per flow and server
#   BENCH_WARMUP  (2)   warm-up seconds before each measured run (results discarded)
#   BENCH_CONNS   (64)  wrk connections;  BENCH_THREADS (2) wrk threads
#   BENCH_WEB_CONCURRENCY (8)  parallel browserless web server flows
#   BENCH_SCALE_TOKENS (1000000)  live tokens preloaded for the scale run; 0 skips it
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
CB=http://127.0.0.1:9/cb
CB_ENC=http%3A%2F%2F127.0.0.1%3A9%2Fcb
CLIENT="node $ROOT/bench/lib/client.mjs"
LUA=$ROOT/bench/wrk/flow.lua
TCK=$(getconf CLK_TCK)

command -v wrk >/dev/null || { echo "bench: wrk missing (scripts/install-deps.sh bench)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "bench: $BIN missing (make build)" >&2; exit 1; }

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
ALL_PIDS=()
stop_servers() {
  local pid
  for pid in "${ALL_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${ALL_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  ALL_PIDS=()
}
trap 'stop_servers; rm -rf "$TMP"' EXIT

log() { printf 'bench: %s\n' "$*" >&2; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wait_listening() { # LOGFILE PID
  for _ in $(seq 1 100); do
    grep -q 'listening on' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { cat "$1" >&2; return 1; }
    sleep 0.1
  done
  cat "$1" >&2; return 1
}
json_field() { node -e 'const o=JSON.parse(require("fs").readFileSync(0,"utf8"));process.stdout.write(String(o[process.argv[1]]??""))' "$1"; }

# wrk_run SECONDS OUTFILE URL (flow configured through FLOW_* in the environment)
wrk_run() {
  FLOW_OUT=$2 WRK_THREADS=$THREADS wrk -t"$THREADS" -c"$CONNS" -d"$1"s --timeout 10s --latency -s "$LUA" "$3" \
    >"$TMP/wrk.log" 2>&1 || { cat "$TMP/wrk.log" >&2; echo '{"requests":0,"ok":0,"errors":1,"first_error":"wrk failed"}' >"$2"; }
}

# record FLOW SERVER RESULT_JSON CPU_S PEAK_KB
record() {
  node -e '
    const [flow, server, file, cpu, rss] = process.argv.slice(1);
    const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
    const exhausted = r.exhausted || 0;
    console.log(JSON.stringify({ flow, server, ...r, cpu_s: Number(cpu), peak_rss_kb: Number(rss),
      req_per_cpu_s: Number(cpu) > 0 ? r.ok / Number(cpu) : null,
      ...(exhausted ? { first_error: `pre-minted codes exhausted (${exhausted} requests without a code)` } : {}) }));
  ' "$1" "$2" "$3" "$4" "$5" >>"$RESULTS"
  local line; line=$(tail -1 "$RESULTS")
  log "$(printf '%-16s %-14s %s' "$1" "$2" "$(echo "$line" | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));process.stdout.write(`${r.rps.toFixed(0)} req/s p99 ${(r.p99_us/1000).toFixed(2)} ms errors ${r.errors}${r.first_error?" ("+r.first_error+")":""}`)')")"
}

# measure FLOW SERVER URL [CODEFILE-for-main-run]: warm-up, then measured run with CPU and peak RSS
measure() {
  local flow=$1 server=$2 url=$3
  if [ "$WARMUP" -gt 0 ] && [ -z "${FLOW_CODES:-}" ]; then wrk_run "$WARMUP" "$TMP/warm.json" "$url"; fi
  echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || true   # reset VmHWM to the current RSS
  local c0; c0=$(cpu_ticks "$SERVER_PID")
  wrk_run "$DURATION" "$TMP/run.json" "$url"
  local c1; c1=$(cpu_ticks "$SERVER_PID")
  local hwm; hwm=$(awk '/VmHWM/{print $2}' "/proc/$SERVER_PID/status")
  record "$flow" "$server" "$TMP/run.json" "$(awk -v a="$c0" -v b="$c1" -v t="$TCK" 'BEGIN{printf "%.2f", (b-a)/t}')" "$hwm"
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

declare -A S_PID S_URL S_NAME S_WEB_ID S_WEB_SECRET S_CC_ID S_CC_SECRET S_JWT_ID

# lk_server SLOT DBFILE PORT NAME [PRELOAD]: a fresh database with the bench user and apps
# (PRELOAD live tokens written into it first), and latchkey serving it on PORT.
lk_server() {
  local slot=$1 db=$2 port=$3 name=$4 preload=${5:-0}
  local lk="$BIN --db sqlite:$db" web cc jwtapp
  echo "$PASS" | $lk user create --username $BUSER --password-stdin --name "Alice Bench" --email $BUSER >/dev/null
  web=$($lk app create --name web --callback $CB --scopes "api refresh_token openid profile email")
  cc=$($lk app create --name cc --scopes "api" --client-credentials-user $BUSER)
  jwtapp=$($lk app create --name jwt --scopes "api" --cert "$TMP/jwt.crt" --permitted-users admin-approved)
  $lk app preauthorize --client-id "$(field "$jwtapp" client_id)" --profile "Standard User" >/dev/null
  if [ "$preload" -gt 0 ]; then
    log "preloading $preload live tokens"
    /usr/bin/python3 bench/lib/preload.py "$db" "$preload"
  fi
  $lk serve --listen 127.0.0.1:$port --quiet >"$TMP/$slot.log" 2>&1 &
  S_PID[$slot]=$!
  ALL_PIDS+=("$!")
  wait_listening "$TMP/$slot.log" "${S_PID[$slot]}"
  S_URL[$slot]=http://127.0.0.1:$port
  S_NAME[$slot]=$name
  S_WEB_ID[$slot]=$(field "$web" client_id); S_WEB_SECRET[$slot]=$(field "$web" client_secret)
  S_CC_ID[$slot]=$(field "$cc" client_id); S_CC_SECRET[$slot]=$(field "$cc" client_secret)
  S_JWT_ID[$slot]=$(field "$jwtapp" client_id)
  log "$name: latchkey $(git describe --always --dirty 2>/dev/null || echo '?') on ${S_URL[$slot]} (pid ${S_PID[$slot]})"
}

LK_SLOTS=(lk)
lk_server lk "$TMP/bench.db" "$LK_PORT" latchkey
if [ "$SCALE_TOKENS" -gt 0 ]; then
  lk_server scale "$TMP/scale.db" "$SCALE_PORT" "latchkey@${SCALE_TOKENS}" "$SCALE_TOKENS"
  LK_SLOTS+=(scale)
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

# use SLOT: the server the next measurement is for; sets what the flows below need of it.
use() {
  CUR=$1
  SERVER_PID=${S_PID[$1]}
  URL=${S_URL[$1]}
  NAME=${S_NAME[$1]}
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
# the fresh one; each on the peer right after.
for flow in client_credentials refresh introspection userinfo; do
  for slot in "${LK_SLOTS[@]}" peer; do use "$slot"; "flow_$flow"; done
done
for flow in code code_openid refresh_openid web_server_flow; do
  for slot in lk peer; do use "$slot"; "flow_$flow"; done
done
use lk; flow_jwt_bearer
stop_servers

# ---- report -------------------------------------------------------------------------------------
mkdir -p bench/results
node bench/lib/report.mjs "$RESULTS" bench/results \
  "sign_rate=$SIGN_RATE" "cores=$(nproc)" "seconds=$DURATION" "warmup=$WARMUP" "conns=$CONNS" "threads=$THREADS" \
  "web_concurrency=$WEB_CONC" "scale_tokens=$SCALE_TOKENS" "latchkey_commit=$(git describe --always --dirty 2>/dev/null || echo unknown)" \
  "peer=oidc-provider $PEER_VERSION" "node=$(node --version)" "wrk=$(wrk -v 2>&1 | head -1 | awk '{print $2}')" \
  "openssl=$(openssl version | awk '{print $2}')"
