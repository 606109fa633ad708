#include "oauth/pkce.h"

#include <gtest/gtest.h>

#include <string>

namespace latchkey::oauth {
namespace {

// RFC 7636 Appendix B.
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

TEST(Pkce, MatchesRfc7636AppendixBVector) {
  EXPECT_TRUE(valid_code_verifier(kVerifier));
  EXPECT_TRUE(valid_s256_challenge(kChallenge));
  EXPECT_TRUE(verify_s256(kVerifier, kChallenge));
}

TEST(Pkce, RefusesVerifierThatDoesNotMatchChallenge) {
  std::string other = kVerifier;
  other[0] = 'e';
  EXPECT_FALSE(verify_s256(other, kChallenge));
  std::string challenge = kChallenge;
  challenge[42] = 'N';
  EXPECT_FALSE(verify_s256(kVerifier, challenge));
}

TEST(Pkce, RefusesPlainMethodStyleComparison) {
  // RFC 7636 §4.2 "plain" would accept challenge == verifier; S256 only here (RFC 9700 §2.1.1).
  const std::string v(43, 'a');
  EXPECT_FALSE(verify_s256(v, v));
}

TEST(Pkce, VerifierLengthBoundsAre43And256) {
  // RFC 7636 §4.1: 43 to 128 characters; up to 256 for Salesforce's clients, whose verifier is
  // the base64url of 128 random bytes (docs/behaviour.md §5.2).
  EXPECT_FALSE(valid_code_verifier(std::string(42, 'a')));
  EXPECT_TRUE(valid_code_verifier(std::string(43, 'a')));
  EXPECT_TRUE(valid_code_verifier(std::string(128, 'a')));
  EXPECT_TRUE(valid_code_verifier(std::string(171, 'a')));
  EXPECT_TRUE(valid_code_verifier(std::string(256, 'a')));
  EXPECT_FALSE(valid_code_verifier(std::string(257, 'a')));
  EXPECT_FALSE(valid_code_verifier(""));
}

TEST(Pkce, VerifierAcceptsEveryUnreservedCharacter) {
  EXPECT_TRUE(
      valid_code_verifier("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"));
}

TEST(Pkce, VerifierRefusesIllegalCharacters) {
  for (char c : std::string("+/=% !\"#$&'()*,:;<>?@[\\]^`{|}")) {
    std::string v(43, 'a');
    v[20] = c;
    EXPECT_FALSE(valid_code_verifier(v)) << "character " << c;
  }
  std::string with_nul(43, 'a');
  with_nul[10] = '\0';
  EXPECT_FALSE(valid_code_verifier(with_nul));
  std::string non_ascii(43, 'a');
  non_ascii[5] = static_cast<char>(0xC3);
  EXPECT_FALSE(valid_code_verifier(non_ascii));
}

TEST(Pkce, VerifyRefusesOutOfBoundsVerifierEvenIfHashMatches) {
  // A 42-character verifier is malformed (RFC 7636 §4.1) whatever its hash.
  EXPECT_FALSE(verify_s256(std::string(42, 'a'), "irrelevant"));
}

TEST(Pkce, ChallengeIsExactly43Base64urlCharacters) {
  EXPECT_FALSE(valid_s256_challenge(std::string(42, 'A')));
  EXPECT_TRUE(valid_s256_challenge(std::string(43, 'A')));
  EXPECT_FALSE(valid_s256_challenge(std::string(44, 'A')));
  EXPECT_FALSE(valid_s256_challenge(""));
  // Padding and the standard-base64 alphabet are not base64url without padding.
  EXPECT_FALSE(valid_s256_challenge(std::string(kChallenge).substr(0, 42) + "="));
  EXPECT_FALSE(valid_s256_challenge(std::string(kChallenge).substr(0, 42) + "+"));
  EXPECT_FALSE(valid_s256_challenge(std::string(kChallenge).substr(0, 42) + "/"));
  // '.' and '~' are legal in a verifier, never in a challenge.
  EXPECT_FALSE(valid_s256_challenge(std::string(kChallenge).substr(0, 42) + "."));
  EXPECT_FALSE(valid_s256_challenge(std::string(kChallenge).substr(0, 42) + "~"));
}

}  // namespace
}  // namespace latchkey::oauth
