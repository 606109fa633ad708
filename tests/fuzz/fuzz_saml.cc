// SAML 2.0 bearer assertions (src/saml/saml_assertion.h): the hardened parse behind
// peek_issuer, signature verification against a fixed RSA certificate, and the decoding of the
// `assertion` form parameter.
//
// Invariants: an assertion that verifies has the Issuer peek_issuer reports; what
// decode_assertion_param returns is non-empty and within the size limit.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "fuzz_keys.h"
#include "saml/saml_assertion.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace latchkey;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto issuer = saml::peek_issuer(input);
  saml::Expectations e;
  e.audience = "https://login.fuzz.test";
  e.recipient = "https://login.fuzz.test/services/oauth2/token";
  e.now_s = 1'700'000'000;
  auto assertion = saml::verify(input, fuzz::kRsaCertPem, e);
  if (assertion.ok() && (!issuer.ok() || *issuer != assertion->issuer)) {
    fuzz::fail("verified assertion's Issuer differs from peek_issuer's");
  }

  if (auto decoded = saml::decode_assertion_param(input)) {
    if (decoded->empty() || decoded->size() > saml::kMaxAssertionBytes) {
      fuzz::fail("decode_assertion_param: empty or oversized result");
    }
    (void)saml::peek_issuer(*decoded);
  }
  return 0;
}
