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

TEST(Certificate, WithinValidityIncludesBothEnds) {
  // RFC 5280 §4.1.2.5: valid from notBefore through notAfter, both inclusive.
  const CertificateValidity v{1'000, 2'000};
  EXPECT_FALSE(within_validity(v, 999));
  EXPECT_TRUE(within_validity(v, 1'000));
  EXPECT_TRUE(within_validity(v, 1'500));
  EXPECT_TRUE(within_validity(v, 2'000));
  EXPECT_FALSE(within_validity(v, 2'001));
}

}  // namespace
}  // namespace latchkey::crypto
