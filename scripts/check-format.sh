#!/usr/bin/env bash
# Fails when a tracked C++ file is not formatted as .clang-format says (Google base, 100
# columns). `make format` rewrites them in place.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h')
if ! out=$(clang-format --dry-run -Werror "${files[@]}" 2>&1); then
  printf '%s\n' "$out" | grep -E '^[^ ].*: error:' | sed -E 's/:[0-9]+:[0-9]+: error:.*//' | sort -u |
    sed 's/^/check-format: not formatted: /' >&2
  echo "check-format: run 'make format'" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted as .clang-format says"
