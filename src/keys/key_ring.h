// The signing keys: RS256 (default for ID tokens, what Salesforce uses) and ES256. Loaded
// from the KeyStore at start-up and again on SIGHUP (a new ring each time, see
// current_key_ring.h); made and saved there when the database has none. Private keys are
// stored sealed under the key-encryption key (crypto/key_sealer.h, docs/operations.md "Signing keys
// at rest"): sealed before saving, opened after loading. Immutable after construction; thread-safe
// to share.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "crypto/jose.h"
#include "crypto/key_sealer.h"
#include "store/stores.h"

namespace latchkey::keys {

// A retired key stays in the JWKS this long, so every token it signed can still be verified:
// the longest access-token lifetime an app may have (30 days) exceeds every other lifetime.
inline constexpr int64_t kRetiredKeyPublishedMs = int64_t{30} * 24 * 60 * 60 * 1000;

class KeyRing {
 public:
  // Loads the active keys and the retired keys still published; generates an RS256 and an
  // ES256 key first if the store has none. Throws std::runtime_error naming the kid and the
  // KEK's file when a key does not open under `sealer` (a database moved without its KEK file,
  // or started with another one) or is stored in plaintext (seal_plaintext_keys first): it
  // never uses a plaintext key and never makes new keys while old ones exist.
  KeyRing(store::KeyStore& keys, const crypto::KeySealer& sealer, Random& random,
          const Clock& clock);

  // Makes a new key of `alg` the signing key and retires the previous ones of that alg (they
  // stay published for kRetiredKeyPublishedMs). Servers pick it up when they start or reload
  // their keys on SIGHUP. Returns the new key's kid.
  static std::string rotate(store::KeyStore& keys, const crypto::KeySealer& sealer, Random& random,
                            const Clock& clock, const std::string& alg);

  // Upgrade of a database from before sealing: seals every key stored as plaintext PEM under
  // `sealer`, keeping its kid, alg and dates. Idempotent; returns how many it sealed.
  static int seal_plaintext_keys(store::KeyStore& keys, const crypto::KeySealer& sealer);

  // The newest active key of that algorithm ("RS256" or "ES256").
  const crypto::SigningKey& signing_key(std::string_view alg = "RS256") const;
  // RFC 7517 JWK Set of every key (current and previous), public parts only.
  boost::json::object jwks() const;
  // The same, serialized once at construction: what GET /id/keys sends.
  const std::string& jwks_json() const { return jwks_json_; }
  const std::vector<crypto::SigningKey>& keys() const { return keys_; }

 private:
  std::vector<crypto::SigningKey> keys_;  // newest first: active and still-published retired
  std::vector<bool> active_;              // parallel to keys_
  std::string jwks_json_;
};

}  // namespace latchkey::keys
