// Single-use identifiers with an expiry: client-assertion jti (RFC 7523 §3 item 7), JWT
// bearer jti and SAML assertion IDs (RFC 7522 §3 item 7 "MAY ... replay"). An identifier is
// refused while its assertion could still be accepted; afterwards it is forgotten. Memory is
// bounded: when full of live entries, new ones are refused rather than growing the table.
// Thread-safe. Per process: several nodes sharing a database each keep their own table.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace latchkey::oauth {

class ReplayCache {
 public:
  explicit ReplayCache(const Clock& clock, std::size_t max_entries = 100'000)
      : clock_(clock), max_entries_(max_entries) {}

  // True the first time `key` is seen before `expires_s`; false for a replay (or when full).
  bool first_use(const std::string& key, int64_t expires_s);

 private:
  const Clock& clock_;
  std::size_t max_entries_;
  std::mutex mu_;
  std::unordered_map<std::string, int64_t> seen_;
};

}  // namespace latchkey::oauth
