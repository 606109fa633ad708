// Compact JWS/JWT decoding and signature verification (src/crypto/jose.h) against one fixed
// RS256 and one fixed ES256 public key: the path every client assertion and JWT bearer grant
// takes before anything in it is trusted.
//
// Invariants: a decoded token's signing input is exactly the first two parts of the input; a
// signature verifies only under the key whose algorithm the header names; no signature verifies
// under both keys.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/jose.h"
#include "fuzz_check.h"
#include "fuzz_keys.h"

namespace {

using namespace latchkey;

struct Keys {
  crypto::PublicKey rsa;
  crypto::PublicKey ec;
};

const Keys& keys() {
  static const Keys* k = [] {
    auto rsa = crypto::PublicKey::from_pem(fuzz::kRsaPublicPem);
    auto ec = crypto::PublicKey::from_pem(fuzz::kEcPublicPem);
    if (!rsa || rsa->alg() != "RS256" || !ec || ec->alg() != "ES256") {
      fuzz::fail("fixed keys do not load");
    }
    return new Keys{*rsa, *ec};
  }();
  return *k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Keys& k = keys();

  auto jwt = crypto::decode_jwt(input);
  if (jwt.ok()) {
    const std::string& si = jwt->signing_input;
    if (input.substr(0, si.size()) != si || input.size() <= si.size() || input[si.size()] != '.') {
      fuzz::fail("signing_input is not the header.payload prefix of the token");
    }
    const bool by_rsa = crypto::verify_jwt(*jwt, k.rsa);
    const bool by_ec = crypto::verify_jwt(*jwt, k.ec);
    if (by_rsa && by_ec) fuzz::fail("one signature verified under two keys");
    const auto alg = jwt->header.if_contains("alg");
    const bool is_rs256 = alg && alg->is_string() && alg->get_string() == "RS256";
    const bool is_es256 = alg && alg->is_string() && alg->get_string() == "ES256";
    if (by_rsa && !is_rs256) fuzz::fail("RSA key accepted a header alg other than RS256");
    if (by_ec && !is_es256) fuzz::fail("EC key accepted a header alg other than ES256");
  }

  // The raw verifiers on arbitrary signature bytes, both algorithms against both keys (a
  // mismatched algorithm must be refused, not misread).
  const std::size_t cut = input.rfind('.');
  const std::string_view signing_input = input.substr(0, cut == std::string_view::npos ? 0 : cut);
  const std::string_view signature = cut == std::string_view::npos ? input : input.substr(cut + 1);
  for (const auto* key : {&k.rsa, &k.ec}) {
    const bool rs = key->verify("RS256", signing_input, signature);
    const bool es = key->verify("ES256", signing_input, signature);
    if ((rs && key->alg() != "RS256") || (es && key->alg() != "ES256")) {
      fuzz::fail("PublicKey::verify accepted an algorithm its key does not have");
    }
  }
  return 0;
}
