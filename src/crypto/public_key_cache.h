// Parsed public keys by the PEM text they came from. OpenSSL 3 takes far longer
// to decode a PEM certificate (a decoder lookup under library-wide locks) than
// to verify an RS256 signature with it, and the same few app certificates
// verify every assertion, so each is parsed once. Thread-safe; holds at most
// `max_entries` keys (a full cache starts over).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/mutex.h"
#include "crypto/jose.h"

namespace latchkey::crypto {

class PublicKeyCache {
 public:
  explicit PublicKeyCache(std::size_t max_entries = 1024) : max_entries_(max_entries) {}

  // PublicKey::from_pem(pem), parsed on first use. Unreadable PEM is not
  // remembered.
  std::optional<PublicKey> get(std::string_view pem) EXCLUDES(mu_);

 private:
  const std::size_t max_entries_;
  Mutex mu_;
  std::unordered_map<std::string, PublicKey> keys_ GUARDED_BY(mu_);
};

}  // namespace latchkey::crypto
