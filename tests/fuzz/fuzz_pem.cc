// PEM and X.509 loading (src/crypto/jose.h): an app's --cert file and the signing keys read
// back from the key store. The input is tried as a public key or certificate, and as a PKCS#8
// private key for both algorithms.
//
// Invariants: a loaded public key names RS256, ES256 or nothing, and its JWK says the same kind;
// only a certificate has a validity window; a loaded signing key has the algorithm it was
// asked for, and what it signs verifies under its own public half.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/jose.h"
#include "fuzz_check.h"

namespace {

using namespace latchkey;

void check_public(const crypto::PublicKey& key) {
  const std::string& alg = key.alg();
  if (!alg.empty() && alg != "RS256" && alg != "ES256") fuzz::fail("unexpected alg");
  if (alg.empty()) return;
  const auto jwk = key.jwk();
  const auto* kty = jwk.if_contains("kty");
  if (!kty || !kty->is_string()) fuzz::fail("JWK without kty");
  if ((alg == "RS256") != (kty->get_string() == "RSA")) fuzz::fail("JWK kty disagrees with alg");
  // A bare key has no certificate fields; a certificate has its SHA-256 thumbprint.
  if (key.x5t_s256().empty() && (key.not_before_s() != 0 || key.not_after_s() != 0)) {
    fuzz::fail("validity window on a bare key");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto key = crypto::PublicKey::from_pem(input)) check_public(*key);

  for (const char* alg : {"RS256", "ES256"}) {
    auto key = crypto::SigningKey::from_pem("fuzz", alg, input);
    if (!key) continue;
    if (key->alg() != alg || key->public_key().alg() != alg) {
      fuzz::fail("SigningKey loaded with another algorithm than asked");
    }
    const std::string signature = key->sign("fuzz.input");
    if (!key->public_key().verify(alg, "fuzz.input", signature)) {
      fuzz::fail("a signing key's signature does not verify under its public key");
    }
    // Writing it out and reading it back gives the same key.
    auto again = crypto::SigningKey::from_pem("fuzz", alg, key->private_pem());
    if (!again || again->public_jwk() != key->public_jwk()) fuzz::fail("PEM round trip");
  }
  return 0;
}
