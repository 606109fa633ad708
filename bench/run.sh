#!/usr/bin/env bash
# make bench: latchkey (fresh SQLite database) against node-oidc-provider, one server at a time,
# same load generator and flows; prints one table, writes bench/results/latest.{md,json}.
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
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap 'stop_server; rm -rf "$TMP"' EXIT

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

# ---- latchkey -----------------------------------------------------------------------------------
BUSER=alice@bench.local
PASS='bench-Password-9!'
TOKEN_PATH=/services/oauth2/token
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/jwt.key" -out "$TMP/jwt.crt" -days 2 \
  -subj /CN=bench-jwt >/dev/null 2>&1

# lk_setup DBFILE: a fresh database with the bench user and apps (sets LK, *_ID, *_SECRET)
lk_setup() {
  LK="$BIN --db sqlite:$1"
  echo "$PASS" | $LK user create --username $BUSER --password-stdin --name "Alice Bench" --email $BUSER >/dev/null
  local web cc jwtapp
  web=$($LK app create --name web --callback $CB --scopes "api refresh_token openid profile email")
  cc=$($LK app create --name cc --scopes "api" --client-credentials-user $BUSER)
  jwtapp=$($LK app create --name jwt --scopes "api" --cert "$TMP/jwt.crt" --permitted-users admin-approved)
  $LK app preauthorize --client-id "$(field "$jwtapp" client_id)" --profile "Standard User" >/dev/null
  WEB_ID=$(field "$web" client_id); WEB_SECRET=$(field "$web" client_secret)
  CC_ID=$(field "$cc" client_id); CC_SECRET=$(field "$cc" client_secret)
  JWT_ID=$(field "$jwtapp" client_id)
}

LK_URL=http://127.0.0.1:$LK_PORT
lk_start() {
  $LK serve --listen 127.0.0.1:$LK_PORT --quiet >"$TMP/latchkey.log" 2>&1 &
  SERVER_PID=$!
  wait_listening "$TMP/latchkey.log" "$SERVER_PID"
  log "latchkey $(git describe --always --dirty 2>/dev/null || echo '?') on $LK_URL (pid $SERVER_PID)"
}
lk_mint()        { $CLIENT mint-codes "$LK_URL" "$WEB_ID" $BUSER "$PASS" "api refresh_token" "$1" "$2"; }
lk_mint_openid() { $CLIENT mint-codes "$LK_URL" "$WEB_ID" $BUSER "$PASS" "api refresh_token openid profile email" "$1" "$2"; }

# lk_token_flows SERVER: the flows whose cost depends on the token table
lk_token_flows() {
  local server=$1
  export FLOW_METHOD=POST FLOW_PATH=$TOKEN_PATH FLOW_EXPECT='"access_token"'
  FLOW_AUTH=$(basic "$CC_ID" "$CC_SECRET") FLOW_BODY='grant_type=client_credentials' \
    measure client_credentials "$server" "$LK_URL"
  lk_mint 1 "$TMP/one.codes"
  T=$($CLIENT token "$LK_URL" $TOKEN_PATH "$WEB_ID" "$WEB_SECRET" grant_type=authorization_code code="$(head -1 "$TMP/one.codes")" redirect_uri=$CB)
  lk_mint_openid 1 "$TMP/one.codes"
  TO=$($CLIENT token "$LK_URL" $TOKEN_PATH "$WEB_ID" "$WEB_SECRET" grant_type=authorization_code code="$(head -1 "$TMP/one.codes")" redirect_uri=$CB)
  FLOW_AUTH=$(basic "$WEB_ID" "$WEB_SECRET") FLOW_BODY="grant_type=refresh_token&refresh_token=$(field "$T" refresh_token)" \
    measure refresh "$server" "$LK_URL"
  FLOW_AUTH=$(basic "$WEB_ID" "$WEB_SECRET") FLOW_PATH=/services/oauth2/introspect FLOW_EXPECT='"active":true' \
    FLOW_BODY="token=$(field "$TO" access_token)" measure introspection "$server" "$LK_URL"
  FLOW_METHOD=GET FLOW_PATH=/services/oauth2/userinfo FLOW_EXPECT='"preferred_username"' FLOW_BODY= \
    FLOW_AUTH="Bearer $(field "$TO" access_token)" measure userinfo "$server" "$LK_URL"
}

lk_setup "$TMP/bench.db"
lk_start
lk_token_flows latchkey
export FLOW_METHOD=POST FLOW_PATH=$TOKEN_PATH FLOW_EXPECT='"access_token"'
export FLOW_AUTH; FLOW_AUTH=$(basic "$WEB_ID" "$WEB_SECRET")
FLOW_BODY="grant_type=authorization_code&code=CODE&redirect_uri=$CB_ENC" code_flow code latchkey "$LK_URL" lk_mint
FLOW_EXPECT='"id_token"' FLOW_BODY="grant_type=authorization_code&code=CODE&redirect_uri=$CB_ENC" \
  code_flow code_openid latchkey "$LK_URL" lk_mint_openid
lk_mint_openid 1 "$TMP/one.codes"
TO=$($CLIENT token "$LK_URL" $TOKEN_PATH "$WEB_ID" "$WEB_SECRET" grant_type=authorization_code code="$(head -1 "$TMP/one.codes")" redirect_uri=$CB)
FLOW_EXPECT='"id_token"' FLOW_BODY="grant_type=refresh_token&refresh_token=$(field "$TO" refresh_token)" \
  measure refresh_openid latchkey "$LK_URL"
ASSERTION=$($CLIENT jwt "$TMP/jwt.key" "$JWT_ID" $BUSER "$LK_URL")
FLOW_AUTH= FLOW_BODY="grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=$ASSERTION" \
  measure jwt_bearer latchkey "$LK_URL"
web_flow web_server_flow latchkey "$LK_URL" /services/oauth2/authorize $TOKEN_PATH "$WEB_ID" "$WEB_SECRET" \
  $BUSER "$PASS" "api refresh_token openid profile email"
stop_server

# ---- latchkey with many live tokens (scale) -------------------------------------------------------
SCALE_TOKENS=${BENCH_SCALE_TOKENS:-1000000}
if [ "$SCALE_TOKENS" -gt 0 ]; then
  lk_setup "$TMP/scale.db"
  log "preloading $SCALE_TOKENS live tokens"
  /usr/bin/python3 bench/lib/preload.py "$TMP/scale.db" "$SCALE_TOKENS"
  lk_start
  lk_token_flows "latchkey@${SCALE_TOKENS}"
  stop_server
  rm -f "$TMP"/scale.db*
fi

# ---- node-oidc-provider -------------------------------------------------------------------------
PEER_URL=http://127.0.0.1:$PEER_PORT
NODE_ENV=production PORT=$PEER_PORT node bench/peer/oidc-provider.mjs >"$TMP/peer.log" 2>&1 &
SERVER_PID=$!
wait_listening "$TMP/peer.log" "$SERVER_PID"
PEER_VERSION=$(node -p 'require("./bench/node_modules/oidc-provider/package.json").version')
log "oidc-provider $PEER_VERSION on $PEER_URL (pid $SERVER_PID)"

peer_mint()        { $CLIENT peer-codes "$PEER_URL" "api" "$1" "$2"; }
peer_mint_openid() { $CLIENT peer-codes "$PEER_URL" "openid profile email offline_access" "$1" "$2"; }

export FLOW_METHOD=POST FLOW_PATH=/token FLOW_EXPECT='"access_token"'
FLOW_AUTH=$(basic cc cc-secret) FLOW_BODY='grant_type=client_credentials' \
  measure client_credentials oidc-provider "$PEER_URL"
FLOW_AUTH=$(basic web web-secret)
FLOW_BODY="grant_type=authorization_code&code=CODE&redirect_uri=$CB_ENC" code_flow code oidc-provider "$PEER_URL" peer_mint
FLOW_EXPECT='"id_token"' FLOW_BODY="grant_type=authorization_code&code=CODE&redirect_uri=$CB_ENC" \
  code_flow code_openid oidc-provider "$PEER_URL" peer_mint_openid
peer_mint 1 "$TMP/one.codes"
T=$($CLIENT token "$PEER_URL" /token web web-secret grant_type=authorization_code code="$(head -1 "$TMP/one.codes")" redirect_uri=$CB)
peer_mint_openid 1 "$TMP/one.codes"
TO=$($CLIENT token "$PEER_URL" /token web web-secret grant_type=authorization_code code="$(head -1 "$TMP/one.codes")" redirect_uri=$CB)
FLOW_BODY="grant_type=refresh_token&refresh_token=$(field "$T" refresh_token)" measure refresh oidc-provider "$PEER_URL"
FLOW_EXPECT='"id_token"' FLOW_BODY="grant_type=refresh_token&refresh_token=$(field "$TO" refresh_token)" \
  measure refresh_openid oidc-provider "$PEER_URL"
FLOW_PATH=/token/introspection FLOW_EXPECT='"active":true' FLOW_BODY="token=$(field "$TO" access_token)" \
  measure introspection oidc-provider "$PEER_URL"
FLOW_METHOD=GET FLOW_PATH=/me FLOW_EXPECT='"preferred_username"' FLOW_BODY= \
  FLOW_AUTH="Bearer $(field "$TO" access_token)" measure userinfo oidc-provider "$PEER_URL"
web_flow web_server_flow oidc-provider "$PEER_URL" /auth /token web web-secret alice any-password \
  "openid profile email offline_access"
stop_server

# ---- report -------------------------------------------------------------------------------------
mkdir -p bench/results
node bench/lib/report.mjs "$RESULTS" bench/results \
  "sign_rate=$SIGN_RATE" "cores=$(nproc)" "seconds=$DURATION" "warmup=$WARMUP" "conns=$CONNS" "threads=$THREADS" \
  "web_concurrency=$WEB_CONC" "scale_tokens=$SCALE_TOKENS" "latchkey_commit=$(git describe --always --dirty 2>/dev/null || echo unknown)" \
  "peer=oidc-provider $PEER_VERSION" "node=$(node --version)" "wrk=$(wrk -v 2>&1 | head -1 | awk '{print $2}')" \
  "openssl=$(openssl version | awk '{print $2}')"
