#!/usr/bin/env bash
# Runs clang-tidy with the checks of .clang-tidy over every source file of src/, in parallel,
# with the compile commands of a configured build directory; fails on any finding
# (WarningsAsErrors), clang's thread-safety analysis among them (.clang-tidy). `make check-tidy`
# configures the build directory first.
#   scripts/check-tidy.sh [BUILD_DIR]   # JOBS=N parallel runs (default: one per core)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jobs=${JOBS:-$(nproc)}
if [ ! -f "$build/compile_commands.json" ]; then
  echo "check-tidy: no $build/compile_commands.json; configure $build with cmake first" >&2
  exit 2
fi
mapfile -t files < <(git ls-files 'src/*.cc')
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$SECONDS
# Two files a run, so that the slowest files spread over the parallel runs.
if ! printf '%s\0' "${files[@]}" |
    xargs -0 -n 2 -P "$jobs" clang-tidy -p "$build" --quiet >"$out" 2>&1; then
  # Each finding once (a header's is reported by every file that includes it); everything
  # clang-tidy said if it named none (it failed to run).
  grep -E ': (error|warning): ' "$out" | sort -u >&2 || cat "$out" >&2
  echo "check-tidy: clang-tidy found the problems above (.clang-tidy says which checks run)" >&2
  exit 1
fi
echo "check-tidy: ${#files[@]} files of src/ clean in $((SECONDS - start)) s"
