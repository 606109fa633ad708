// Failure limiting by key: failed logins per username and per client address (CONTRACT §6),
// failed client authentication per client id. After a few free failures each further one
// doubles a lockout, up to `max_lockout_ms`. Memory is bounded: the table holds at most
// `max_entries` keys and sheds the least recently active ones when full.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace latchkey::oauth {

class FailureThrottle {
 public:
  explicit FailureThrottle(const Clock& clock, std::size_t max_entries = 50'000,
                           int64_t max_lockout_ms = 15 * 60 * 1000)
      : clock_(clock), max_entries_(max_entries), max_lockout_ms_(max_lockout_ms) {}

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
  int64_t max_lockout_ms_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace latchkey::oauth
