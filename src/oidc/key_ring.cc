#include "oidc/key_ring.h"

#include <stdexcept>

#include "core/ids.h"

namespace latchkey::oidc {
namespace {

store::SigningKeyRecord record_of(const crypto::SigningKey& key, int64_t now_ms) {
  return {key.kid(), key.alg(), key.private_pem(), now_ms, 0};
}

}  // namespace

KeyRing::KeyRing(store::KeyStore& keys, Random& random, const Clock& clock) {
  auto records = keys.list_keys();
  if (records.empty()) {
    // ES256 first, so the RS256 key is the newest and lists first in the JWKS.
    auto es = crypto::SigningKey::generate_es256(random_base62(random, 16));
    keys.save_key(record_of(es, clock.now_ms()));
    auto rs = crypto::SigningKey::generate_rs256(random_base62(random, 16));
    keys.save_key(record_of(rs, clock.now_ms() + 1));
    records = keys.list_keys();
  }
  for (const auto& r : records) {
    auto key = crypto::SigningKey::from_pem(r.kid, r.alg, r.private_pem);
    if (!key) throw std::runtime_error("signing key " + r.kid + " in the database is unreadable");
    keys_.push_back(std::move(*key));
  }
}

const crypto::SigningKey& KeyRing::signing_key(std::string_view alg) const {
  for (const auto& k : keys_) {
    if (k.alg() == alg) return k;
  }
  throw std::logic_error("no signing key for " + std::string(alg));
}

boost::json::object KeyRing::jwks() const {
  boost::json::array list;
  for (const auto& k : keys_) list.push_back(k.public_jwk());
  return {{"keys", std::move(list)}};
}

}  // namespace latchkey::oidc
