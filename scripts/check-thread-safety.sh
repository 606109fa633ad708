#!/usr/bin/env bash
# Compiles every source file of src/ with clang's thread-safety analysis (-Wthread-safety), as an
# error, in parallel: touching a member declared GUARDED_BY(mu) without holding mu, or calling a
# function that REQUIRES / EXCLUDES a mutex in the wrong state, fails the run
# (core/thread_annotations.h, core/mutex.h). Syntax only: nothing is built.
#   scripts/check-thread-safety.sh [BUILD_DIR]   # JOBS=N parallel compiles (default: one per core)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jobs=${JOBS:-$(nproc)}
# The include flags and definitions of the build (CMakeLists.txt, lk_library).
read -ra xml_flags <<<"$(pkg-config --cflags xmlsec1-openssl libxml-2.0)"
flags=(-std=c++20 -Isrc "-I$build/generated" "${xml_flags[@]}" -DBOOST_ASIO_NO_DEPRECATED
       -DBOOST_BEAST_USE_STD_STRING_VIEW -fsyntax-only -Wthread-safety -Werror)
mapfile -t files < <(git ls-files 'src/*.cc')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
start=$SECONDS
# The standard and Boost headers most files include, parsed once into a precompiled header
# that every file then loads (lazily) before its own includes: half of each file's time was
# parsing them again. Their include guards make a file's own #include of them a no-op.
headers=(algorithm array atomic chrono cstdint cstring functional memory optional string
         string_view thread unordered_map utility variant vector boost/asio/ip/tcp.hpp
         boost/asio/post.hpp boost/asio/thread_pool.hpp boost/json.hpp)
printf '#include <%s>\n' "${headers[@]}" >"$tmp/common.h"
clang++ "${flags[@]/-fsyntax-only/}" -x c++-header "$tmp/common.h" -o "$tmp/common.h.pch"
flags+=(-include-pch "$tmp/common.h.pch")
if ! printf '%s\0' "${files[@]}" |
    xargs -0 -n 1 -P "$jobs" clang++ "${flags[@]}" >"$out" 2>&1; then
  cat "$out" >&2
  echo "check-thread-safety: clang's thread-safety analysis refused the code above" >&2
  exit 1
fi
echo "check-thread-safety: ${#files[@]} files of src/ pass -Wthread-safety in $((SECONDS - start)) s"
