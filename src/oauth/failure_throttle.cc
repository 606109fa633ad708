#include "oauth/failure_throttle.h"

#include <algorithm>

namespace latchkey::oauth {
namespace {

constexpr int kFreeFailures = 5;
constexpr int64_t kForgetAfterMs = 60 * 60 * 1000;

}  // namespace

int64_t FailureThrottle::wait_s(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  int64_t left = it->second.locked_until_ms - clock_.now_ms();
  return left > 0 ? (left + 999) / 1000 : 0;
}

void FailureThrottle::failure(const std::string& key) {
  std::lock_guard lock(mu_);
  int64_t now = clock_.now_ms();
  if (entries_.size() >= max_entries_ && !entries_.contains(key)) {
    std::erase_if(entries_, [&](const auto& e) { return now - e.second.last_ms > kForgetAfterMs; });
    if (entries_.size() >= max_entries_) {
      // Still full: shed the least recently active key, never the one under attack now.
      auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a,
                                                                          const auto& b) {
        return a.second.last_ms < b.second.last_ms;
      });
      entries_.erase(oldest);
    }
  }
  Entry& e = entries_[key];
  if (now - e.last_ms > kForgetAfterMs) e = Entry{};
  e.failures++;
  e.last_ms = now;
  if (e.failures >= kFreeFailures) {
    int shift = std::min(e.failures - kFreeFailures, 10);
    e.locked_until_ms = now + std::min<int64_t>(int64_t{1000} << shift, max_lockout_ms_);
  }
}

void FailureThrottle::success(const std::string& key) {
  std::lock_guard lock(mu_);
  entries_.erase(key);
}

}  // namespace latchkey::oauth
