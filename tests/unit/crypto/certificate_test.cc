#include "crypto/certificate.h"

#include <gtest/gtest.h>

#include "crypto/crypto.h"

namespace latchkey::crypto {
namespace {

// RFC 8705 §3.1: base64url without padding of the SHA-256 of the DER.
TEST(Certificate, ThumbprintIsBase64urlSha256) {
  EXPECT_EQ(x5t_s256("abc"), base64url_encode(sha256("abc")));
  EXPECT_EQ(x5t_s256("abc").size(), 43u);
}

TEST(Certificate, GarbageDoesNotParse) {
  EXPECT_FALSE(certificate_validity("").has_value());
  EXPECT_FALSE(certificate_validity("not DER").has_value());
  EXPECT_FALSE(
      certificate_der_from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
          .has_value());
}

}  // namespace
}  // namespace latchkey::crypto
