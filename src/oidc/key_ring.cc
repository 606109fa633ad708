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
  int64_t now = clock.now_ms();
  for (const auto& r : records) {
    bool active = r.retired_ms == 0;
    if (!active && now - r.retired_ms > kRetiredKeyPublishedMs) continue;
    auto key = crypto::SigningKey::from_pem(r.kid, r.alg, r.private_pem);
    if (!key) throw std::runtime_error("signing key " + r.kid + " in the database is unreadable");
    keys_.push_back(std::move(*key));
    active_.push_back(active);
  }
  jwks_json_ = boost::json::serialize(jwks());
}

std::string KeyRing::rotate(store::KeyStore& keys, Random& random, const Clock& clock,
                            const std::string& alg) {
  if (alg != "RS256" && alg != "ES256") throw std::invalid_argument("alg must be RS256 or ES256");
  int64_t now = clock.now_ms();
  for (auto r : keys.list_keys()) {
    if (r.alg == alg && r.retired_ms == 0) {
      r.retired_ms = now;
      keys.save_key(r);
    }
  }
  std::string kid = random_base62(random, 16);
  auto key = alg == "RS256" ? crypto::SigningKey::generate_rs256(kid)
                            : crypto::SigningKey::generate_es256(kid);
  // One millisecond newer than anything retired now, so it lists (and signs) first.
  keys.save_key(record_of(key, now + 1));
  return kid;
}

const crypto::SigningKey& KeyRing::signing_key(std::string_view alg) const {
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (active_[i] && keys_[i].alg() == alg) return keys_[i];
  }
  throw std::logic_error("no signing key for " + std::string(alg));
}

boost::json::object KeyRing::jwks() const {
  boost::json::array list;
  for (const auto& k : keys_) list.push_back(k.public_jwk());
  return {{"keys", std::move(list)}};
}

}  // namespace latchkey::oidc
