#include "oauth/failure_throttle.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "crypto/crypto.h"
#include "http/address.h"

namespace latchkey::oauth {
namespace {

constexpr int64_t kForgetAfterMs = 60 * 60 * 1000;

}  // namespace

std::string FailureThrottle::address_of(std::string_view remote_addr) {
  return http::address_key(remote_addr);
}

FailureThrottle::Key FailureThrottle::key_of(std::string_view text) {
  const std::string digest = crypto::sha256(text);
  Key key{};
  std::memcpy(key.data(), digest.data(), std::min(digest.size(), key.size()));
  return key;
}

int64_t FailureThrottle::wait_s(const Key& key) {
  MutexLock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  int64_t left = it->second.locked_until_ms - clock_.now_ms();
  return left > 0 ? (left + 999) / 1000 : 0;
}

void FailureThrottle::failure(const Key& key) {
  count(key);
  if (sharing_.feed != nullptr) sharing_.feed->publish(sharing_.name, key, true);
}

void FailureThrottle::success(const Key& key) {
  if (forget(key) && sharing_.feed != nullptr) sharing_.feed->publish(sharing_.name, key, false);
}

void FailureThrottle::count(const Key& key) {
  MutexLock lock(mu_);
  const int64_t now = clock_.now_ms();
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_entries_) {
      // Full: shed the least recently active key, never the one failing now. The front of the
      // list is the quietest key, so an idle key goes before any that is still being tried.
      entries_.erase(lru_.front());
      lru_.pop_front();
    }
    lru_.push_back(key);
    it = entries_.emplace(key, Entry{}).first;
    it->second.lru = std::prev(lru_.end());
    it->second.last_ms = now;
  } else {
    lru_.splice(lru_.end(), lru_, it->second.lru);  // now the most recently active
  }
  Entry& e = it->second;
  if (now - e.last_ms > kForgetAfterMs) {
    e.failures = 0;
    e.locked_until_ms = 0;
  }
  e.failures++;
  e.last_ms = now;
  if (e.failures >= free_failures_) {
    int shift = std::min(e.failures - free_failures_, 10);
    e.locked_until_ms = now + std::min<int64_t>(int64_t{1000} << shift, max_lockout_ms_);
  }
}

int FailureThrottle::failures(const Key& key) {
  MutexLock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || clock_.now_ms() - it->second.last_ms > kForgetAfterMs) return 0;
  return it->second.failures;
}

bool FailureThrottle::forget(const Key& key) {
  MutexLock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  lru_.erase(it->second.lru);
  entries_.erase(it);
  return true;
}

std::size_t FailureThrottle::size() {
  MutexLock lock(mu_);
  return entries_.size();
}

std::size_t FailureThrottle::key_bytes() {
  MutexLock lock(mu_);
  std::size_t n = 0;
  for (const auto& [key, entry] : entries_) n += key.size();
  return n;
}

}  // namespace latchkey::oauth
