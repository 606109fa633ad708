// docs/behaviour.md §7: the assertion parameter is base64url with or without padding; standard
// base64 is accepted too.
#include <gtest/gtest.h>

#include <string>

#include "crypto/crypto.h"
#include "saml/saml_assertion.h"

namespace latchkey::saml {
namespace {

// 0xFB 0xFF 0xBF encodes to "+/+/" in standard base64 and "-_-_" in base64url, so the two
// alphabets are both exercised; the trailing "ab" forces padding.
const std::string kData = std::string("<x>\xFB\xFF\xBF", 6) + "ab";

TEST(DecodeAssertionParam, AcceptsBase64UrlWithAndWithoutPadding) {
  const std::string unpadded = crypto::base64url_encode(kData);
  ASSERT_EQ(unpadded.find('='), std::string::npos);
  EXPECT_EQ(decode_assertion_param(unpadded), kData);
  EXPECT_EQ(decode_assertion_param(unpadded + "="), kData);
}

TEST(DecodeAssertionParam, AcceptsStandardBase64WithAndWithoutPadding) {
  const std::string padded = crypto::base64_encode(kData);
  ASSERT_NE(padded.find('+'), std::string::npos);
  ASSERT_EQ(padded.back(), '=');
  EXPECT_EQ(decode_assertion_param(padded), kData);
  EXPECT_EQ(decode_assertion_param(padded.substr(0, padded.find('='))), kData);
}

TEST(DecodeAssertionParam, ToleratesLineBreaksAndFormDecodedPlus) {
  std::string wrapped = crypto::base64_encode(kData);
  wrapped.insert(4, "\r\n");
  EXPECT_EQ(decode_assertion_param(wrapped), kData);
  std::string spaced = crypto::base64_encode(kData);
  for (char& c : spaced) {
    if (c == '+') c = ' ';
  }
  EXPECT_EQ(decode_assertion_param(spaced), kData);
}

TEST(DecodeAssertionParam, RefusesInvalidInput) {
  EXPECT_EQ(decode_assertion_param(""), std::nullopt);
  EXPECT_EQ(decode_assertion_param("!!!!"), std::nullopt);
  EXPECT_EQ(decode_assertion_param("PHg-+w"), std::nullopt);  // mixed alphabets
  EXPECT_EQ(decode_assertion_param("A"), std::nullopt);       // 6 bits cannot make a byte
}

TEST(DecodeAssertionParam, EnforcesThe32KiBLimit) {
  const std::string at_limit(kMaxAssertionBytes, 'x');
  EXPECT_EQ(decode_assertion_param(crypto::base64url_encode(at_limit)), at_limit);
  const std::string over(kMaxAssertionBytes + 1, 'x');
  EXPECT_EQ(decode_assertion_param(crypto::base64url_encode(over)), std::nullopt);
  EXPECT_EQ(decode_assertion_param(std::string(200 * 1024, 'A')), std::nullopt);
}

}  // namespace
}  // namespace latchkey::saml
