#include "keys/key_ring.h"

#include <stdexcept>

#include "core/ids.h"
#include "crypto/crypto.h"

namespace latchkey::keys {
namespace {

store::SigningKeyRecord record_of(const crypto::SigningKey& key, const crypto::KeySealer& sealer,
                                  int64_t now_ms) {
  return {key.kid(), key.alg(), sealer.seal(key.kid(), key.alg(), key.private_pem()), now_ms, 0};
}

}  // namespace

KeyRing::KeyRing(store::KeyStore& keys, const crypto::KeySealer& sealer, Random& random,
                 const Clock& clock) {
  auto records = keys.list_keys();
  if (records.empty()) {
    // ES256 first, so the RS256 key is the newest and lists first in the JWKS.
    auto es = crypto::SigningKey::generate_es256(random_base62(random, 16));
    keys.save_key(record_of(es, sealer, clock.now_ms()));
    auto rs = crypto::SigningKey::generate_rs256(random_base62(random, 16));
    keys.save_key(record_of(rs, sealer, clock.now_ms() + 1));
    records = keys.list_keys();
  }
  int64_t now = clock.now_ms();
  for (const auto& r : records) {
    bool active = r.retired_ms == 0;
    if (!active && now - r.retired_ms > kRetiredKeyPublishedMs) continue;
    if (!crypto::KeySealer::is_sealed(r.private_pem)) {
      throw std::runtime_error("signing key " + r.kid +
                               " is stored unencrypted; it is sealed "
                               "under the key-encryption key when the server starts");
    }
    auto pem = sealer.open(r.kid, r.alg, r.private_pem);
    if (!pem) {
      throw std::runtime_error("signing key " + r.kid +
                               " cannot be decrypted with the "
                               "key-encryption key file " +
                               sealer.source() + ": " + pem.error().description() +
                               " (was the database moved without its key-encryption key file?)");
    }
    auto key = crypto::SigningKey::from_pem(r.kid, r.alg, *pem);
    crypto::wipe(*pem);
    if (!key) throw std::runtime_error("signing key " + r.kid + " in the database is unreadable");
    keys_.push_back(std::move(*key));
    active_.push_back(active);
  }
  jwks_json_ = boost::json::serialize(jwks());
}

std::string KeyRing::rotate(store::KeyStore& keys, const crypto::KeySealer& sealer, Random& random,
                            const Clock& clock, const std::string& alg) {
  if (alg != "RS256" && alg != "ES256") throw std::invalid_argument("alg must be RS256 or ES256");
  int64_t now = clock.now_ms();
  const std::vector<store::SigningKeyRecord> before = keys.list_keys();
  std::string kid = random_base62(random, 16);
  auto key = alg == "RS256" ? crypto::SigningKey::generate_rs256(kid)
                            : crypto::SigningKey::generate_es256(kid);
  // The new key first, then the old ones retired: a server reloading in between (they reload by
  // themselves, app/change_follower.h) always finds an active key of this alg. One millisecond
  // newer than anything retired now, so it lists (and signs) first.
  keys.save_key(record_of(key, sealer, now + 1));
  for (auto r : before) {
    if (r.alg == alg && r.retired_ms == 0) {
      r.retired_ms = now;
      keys.save_key(r);
    }
  }
  return kid;
}

int KeyRing::seal_plaintext_keys(store::KeyStore& keys, const crypto::KeySealer& sealer) {
  int sealed = 0;
  for (auto r : keys.list_keys()) {
    if (crypto::KeySealer::is_sealed(r.private_pem)) continue;
    // Only what parses as a key of its alg is sealed: anything else stays as it is and the
    // key ring refuses it by kid, rather than sealing garbage that then looks like a key.
    if (!crypto::SigningKey::from_pem(r.kid, r.alg, r.private_pem)) continue;
    std::string plain = std::move(r.private_pem);
    r.private_pem = sealer.seal(r.kid, r.alg, plain);
    crypto::wipe(plain);
    keys.save_key(r);
    ++sealed;
  }
  return sealed;
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

}  // namespace latchkey::keys
