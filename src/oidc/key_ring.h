// The signing keys: RS256 (default for ID tokens, what Salesforce uses) and ES256. Loaded
// from the KeyStore at start-up; made and saved there when the database has none.
// Immutable after construction; thread-safe to share.
#pragma once

#include <boost/json.hpp>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "crypto/jose.h"
#include "store/stores.h"

namespace latchkey::oidc {

class KeyRing {
 public:
  // Loads every key; generates an RS256 and an ES256 key first if none exist.
  KeyRing(store::KeyStore& keys, Random& random, const Clock& clock);

  // The newest active key of that algorithm ("RS256" or "ES256").
  const crypto::SigningKey& signing_key(std::string_view alg = "RS256") const;
  // RFC 7517 JWK Set of every key (current and previous), public parts only.
  boost::json::object jwks() const;
  const std::vector<crypto::SigningKey>& keys() const { return keys_; }

 private:
  std::vector<crypto::SigningKey> keys_;  // newest first
};

}  // namespace latchkey::oidc
