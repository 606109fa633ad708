// Failed-login limiting per username and per client address (CONTRACT §6): after a few
// failures each further one doubles a lockout, up to 15 minutes. Memory is bounded: the
// table holds at most `max_entries` keys and sheds the oldest quiet ones when full.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace latchkey::oauth {

class LoginThrottle {
 public:
  explicit LoginThrottle(const Clock& clock, std::size_t max_entries = 50'000)
      : clock_(clock), max_entries_(max_entries) {}

  // Seconds until the key may try again; 0 when it may try now.
  int64_t wait_s(const std::string& key);
  void failure(const std::string& key);
  void success(const std::string& key);

 private:
  struct Entry {
    int failures = 0;
    int64_t locked_until_ms = 0;
    int64_t last_ms = 0;
  };
  const Clock& clock_;
  std::size_t max_entries_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace latchkey::oauth
