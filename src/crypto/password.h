// Argon2id password hashing (libargon2), PHC string format. Parameters follow OWASP's
// current guidance (m=19 MiB, t=2, p=1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/random.h"

namespace latchkey::crypto {

struct Argon2Params {
  uint32_t memory_kib = 19 * 1024;
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};

class PasswordHasher {
 public:
  explicit PasswordHasher(Random& random, Argon2Params params = {})
      : random_(random), params_(params) {}
  std::string hash(
      std::string_view password) const;  // "$argon2id$v=19$m=...,t=...,p=...$salt$hash"
  // False for a wrong password or a malformed stored hash; never throws.
  bool verify(std::string_view phc, std::string_view password) const;

 private:
  Random& random_;
  Argon2Params params_;
};

}  // namespace latchkey::crypto
