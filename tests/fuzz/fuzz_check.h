// How a fuzz target reports a broken invariant: a message, then abort(), which libFuzzer
// reports as a crash and for which it saves the input.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace latchkey::fuzz {

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
  std::abort();
}

}  // namespace latchkey::fuzz
