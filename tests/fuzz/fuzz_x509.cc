// X.509 client certificates and subject DNs (RFC 8705): src/crypto/certificate.cc and
// src/crypto/distinguished_name.cc. The input is tried as a PEM text (an app's --mtls-cert),
// as DER (the certificate a TLS client presented) and as an RFC 4514 DN string (an app's
// --mtls-subject-dn).
//
// Invariants: a certificate read from PEM comes back as DER that parses again, with a
// base64url SHA-256 thumbprint; a normal form, normalized again, is either refused or itself
// (so a DN copied from a certificate or from `app show` matches what it was copied from).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/certificate.h"
#include "crypto/distinguished_name.h"
#include "fuzz_check.h"

namespace {

using namespace latchkey;

void check_normal_form(const std::string& normal) {
  if (normal.empty()) latchkey::fuzz::fail("empty normal form");
  auto again = crypto::normalize_dn(normal);
  if (again && *again != normal) latchkey::fuzz::fail("normalizing a normal form changed it");
}

// Whatever a DER certificate yields.
void check_der(std::string_view der, bool must_parse) {
  auto subject = crypto::certificate_subject_dn(der);
  auto validity = crypto::certificate_validity(der);
  if (must_parse && !subject) latchkey::fuzz::fail("DER from a PEM certificate does not parse");
  if (!subject && validity) latchkey::fuzz::fail("validity of a certificate that does not parse");
  if (subject && !subject->empty()) check_normal_form(*subject);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto der = crypto::certificate_der_from_pem(input)) {
    if (der->empty()) latchkey::fuzz::fail("empty DER from PEM");
    const std::string thumbprint = crypto::x5t_s256(*der);
    if (thumbprint.size() != 43 ||
        thumbprint.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_") != std::string::npos) {
      latchkey::fuzz::fail("x5t#S256 is not 43 base64url characters");
    }
    check_der(*der, /*must_parse=*/der->size() <= 64 * 1024);
  }

  check_der(input, /*must_parse=*/false);

  if (auto normal = crypto::normalize_dn(input)) check_normal_form(*normal);
  return 0;
}
