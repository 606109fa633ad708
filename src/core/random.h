// Random seam: every secret (tokens, codes, CSRF values, ids) comes from here, so tests can
// make them deterministic. The production implementation is crypto::OsRandom (CSPRNG).
#pragma once

#include <cstddef>
#include <string>

namespace latchkey {

class Random {
 public:
  virtual ~Random() = default;
  // n cryptographically strong random bytes. Thread-safe.
  virtual std::string bytes(std::size_t n) = 0;
};

}  // namespace latchkey
