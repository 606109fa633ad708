#!/usr/bin/env bash
# Runs every libFuzzer target built in a LATCHKEY_FUZZ=ON build directory for a bounded time
# (`make fuzz` builds them first). Each target starts from its seed corpus in
# tests/fuzz/corpus/<target>/, which is only read: what the run discovers goes to
# <build dir>/fuzz-corpus/<target>/, and crashing inputs to <build dir>/fuzz-artifacts/.
# Prints one summary line per target; exits non-zero if any target found a crash, a leak, a
# sanitizer report or a timeout, or if a target of tests/fuzz/fuzz_*.cc was not built (a target
# that silently stopped being built would otherwise pass unnoticed).
#   scripts/run-fuzz.sh [BUILD_DIR]        FUZZ_SECONDS (default 30) per target, FUZZ_JOBS
#                                          (default: the number of cores) targets at a time
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-asan}
seconds=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-$(nproc)}
bin_dir=$build/tests/fuzz
work=$build/fuzz-corpus
artifacts=$build/fuzz-artifacts
logs=$build/fuzz-logs
mkdir -p "$work" "$artifacts" "$logs"

targets=()
missing=()
for src in tests/fuzz/fuzz_*.cc; do
  t=$(basename "$src" .cc)
  if [ -x "$bin_dir/$t" ]; then targets+=("$t"); else missing+=("$t"); fi
done
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets built in $bin_dir" >&2; exit 1; }

failed=()
for t in "${missing[@]}"; do
  printf 'fuzz: %-16s FAILED (not built: no %s/%s)\n' "$t" "$bin_dir" "$t"
done
# fuzz_one TARGET: runs one target; its exit status goes to $logs/TARGET.rc.
fuzz_one() {
  local t=$1 seeds=tests/fuzz/corpus/$1
  mkdir -p "$work/$t"
  [ -d "$seeds" ] || seeds=
  # The first corpus directory receives new inputs, so the checked-in seeds come second.
  # A sanitizer report stops the run with a non-zero exit (-fno-sanitize-recover=all).
  "$bin_dir/$t" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "$work/$t" $seeds >"$logs/$t.log" 2>&1
  echo $? >"$logs/$t.rc"
}
# FUZZ_JOBS targets at a time (one per core by default): each is single-threaded.
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait
for t in "${targets[@]}"; do
  log=$logs/$t.log
  rc=$(cat "$logs/$t.rc" 2>/dev/null || echo '?')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  status=ok
  if [ "$rc" != 0 ]; then
    status="FAILED (exit $rc, log $log)"
    failed+=("$t")
  fi
  printf 'fuzz: %-16s execs: %-9s exec/s: %-6s cov: %-6s ft: %-6s corpus: %-5s %s\n' \
    "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$status"
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "fuzz: expected targets not built: ${missing[*]} (each tests/fuzz/fuzz_*.cc needs an lk_fuzz line in tests/fuzz/CMakeLists.txt)" >&2
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}; inputs in $artifacts/" >&2
  for t in "${failed[@]}"; do
    echo "---- $t ----" >&2
    grep -E -A40 '^==[0-9]+==ERROR|runtime error|fuzz invariant violated|deadly signal|Test unit written' \
      "$logs/$t.log" | head -80 >&2
  done
  exit 1
fi
[ ${#missing[@]} -eq 0 ] || exit 1
