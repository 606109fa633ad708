#include "crypto/public_key_cache.h"

namespace latchkey::crypto {

std::optional<PublicKey> PublicKeyCache::get(std::string_view pem) {
  std::string key(pem);
  {
    MutexLock lock(mu_);
    if (auto it = keys_.find(key); it != keys_.end()) return it->second;
  }
  // Parsed outside the lock: two threads may both parse a new certificate,
  // which is harmless.
  auto parsed = PublicKey::from_pem(pem);
  if (!parsed) return std::nullopt;
  MutexLock lock(mu_);
  if (keys_.size() >= max_entries_) keys_.clear();
  keys_.insert_or_assign(std::move(key), *parsed);
  return parsed;
}

}  // namespace latchkey::crypto
