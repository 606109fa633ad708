#include "oauth/replay_cache.h"

namespace latchkey::oauth {

bool ReplayCache::first_use(const std::string& key, int64_t expires_s) {
  std::lock_guard lock(mu_);
  int64_t now = clock_.now_s();
  if (seen_.size() >= max_entries_) {
    std::erase_if(seen_, [&](const auto& e) { return e.second <= now; });
    if (seen_.size() >= max_entries_) return false;
  }
  auto [it, inserted] = seen_.emplace(key, expires_s);
  if (!inserted && it->second <= now) {
    it->second = expires_s;
    return true;
  }
  return inserted;
}

}  // namespace latchkey::oauth
