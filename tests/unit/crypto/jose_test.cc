#include "crypto/jose.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "crypto/crypto.h"

namespace latchkey::crypto {
namespace {

// Key generation (RSA especially) is slow; one key of each kind serves the whole file.
const SigningKey& rsa_key() {
  static const SigningKey key = SigningKey::generate_rs256("rsa-1");
  return key;
}
const SigningKey& other_rsa_key() {
  static const SigningKey key = SigningKey::generate_rs256("rsa-2");
  return key;
}
const SigningKey& ec_key() {
  static const SigningKey key = SigningKey::generate_es256("ec-1");
  return key;
}
const SigningKey& other_ec_key() {
  static const SigningKey key = SigningKey::generate_es256("ec-2");
  return key;
}

boost::json::object sample_claims() {
  return {{"iss", "3MVG9client"},
          {"sub", "user@example.com"},
          {"aud", "https://login.example.com"},
          {"exp", 1900000000}};
}

// Builds a compact JWS from raw JSON texts, signed (or not) as the test chooses.
std::string compact(std::string_view header_json, std::string_view claims_json,
                    std::string_view signature) {
  return base64url_encode(header_json) + "." + base64url_encode(claims_json) + "." +
         base64url_encode(signature);
}

// A JWS with an arbitrary header, correctly signed by `key` over exactly that header.
std::string signed_with_header(const SigningKey& key, std::string_view header_json) {
  const std::string input = base64url_encode(header_json) + "." +
                            base64url_encode(boost::json::serialize(sample_claims()));
  return input + "." + base64url_encode(key.sign(input));
}

bool decodes_and_verifies(std::string_view token, const PublicKey& key) {
  auto jwt = decode_jwt(token);
  return jwt.ok() && verify_jwt(*jwt, key);
}

TEST(Jose, SignsAndVerifiesRs256) {
  const std::string token = sign_jwt(rsa_key(), sample_claims());
  auto jwt = decode_jwt(token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->claims, sample_claims());
  EXPECT_EQ(jwt->signature.size(), 256u);
  EXPECT_TRUE(verify_jwt(*jwt, rsa_key().public_key()));
}

TEST(Jose, SignsAndVerifiesEs256) {
  const std::string token = sign_jwt(ec_key(), sample_claims());
  auto jwt = decode_jwt(token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->claims, sample_claims());
  // RFC 7518 §3.4: R||S, 32 octets each, not DER.
  EXPECT_EQ(jwt->signature.size(), 64u);
  EXPECT_TRUE(verify_jwt(*jwt, ec_key().public_key()));
}

TEST(Jose, Es256SignaturesVerifyRepeatedly) {
  // Catches R or S values with leading zero octets being dropped instead of padded.
  for (int i = 0; i < 200; ++i) {
    boost::json::object claims = sample_claims();
    claims["jti"] = i;
    ASSERT_TRUE(decodes_and_verifies(sign_jwt(ec_key(), claims), ec_key().public_key())) << i;
  }
}

TEST(Jose, HeaderCarriesAlgKidAndTyp) {
  auto jwt = decode_jwt(sign_jwt(ec_key(), sample_claims(), "at+jwt"));
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->header,
            (boost::json::object{{"alg", "ES256"}, {"kid", "ec-1"}, {"typ", "at+jwt"}}));
  auto untyped = decode_jwt(sign_jwt(rsa_key(), sample_claims(), ""));
  ASSERT_TRUE(untyped.ok());
  EXPECT_EQ(untyped->header, (boost::json::object{{"alg", "RS256"}, {"kid", "rsa-1"}}));
}

TEST(Jose, SigningInputIsHeaderDotPayloadAsReceived) {
  const std::string token = sign_jwt(rsa_key(), sample_claims());
  auto jwt = decode_jwt(token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->signing_input, token.substr(0, token.rfind('.')));
}

TEST(Jose, RefusesTamperedPayload) {
  for (const SigningKey* key : {&rsa_key(), &ec_key()}) {
    const std::string token = sign_jwt(*key, sample_claims());
    boost::json::object claims = sample_claims();
    claims["sub"] = "admin@example.com";
    const std::size_t dot1 = token.find('.');
    const std::size_t dot2 = token.rfind('.');
    const std::string forged = token.substr(0, dot1 + 1) +
                               base64url_encode(boost::json::serialize(claims)) +
                               token.substr(dot2);
    ASSERT_TRUE(decode_jwt(forged).ok());
    EXPECT_FALSE(decodes_and_verifies(forged, key->public_key())) << key->alg();
  }
}

TEST(Jose, RefusesTamperedSignature) {
  for (const SigningKey* key : {&rsa_key(), &ec_key()}) {
    auto jwt = decode_jwt(sign_jwt(*key, sample_claims()));
    ASSERT_TRUE(jwt.ok());
    for (std::size_t i : {std::size_t{0}, jwt->signature.size() / 2, jwt->signature.size() - 1}) {
      DecodedJwt tampered = *jwt;
      tampered.signature[i] = static_cast<char>(tampered.signature[i] ^ 0x01);
      EXPECT_FALSE(verify_jwt(tampered, key->public_key())) << key->alg() << " byte " << i;
    }
    DecodedJwt truncated = *jwt;
    truncated.signature.pop_back();
    EXPECT_FALSE(verify_jwt(truncated, key->public_key())) << key->alg();
    DecodedJwt extended = *jwt;
    extended.signature += '\0';
    EXPECT_FALSE(verify_jwt(extended, key->public_key())) << key->alg();
    DecodedJwt empty = *jwt;
    empty.signature.clear();
    EXPECT_FALSE(verify_jwt(empty, key->public_key())) << key->alg();
  }
}

TEST(Jose, RefusesAlgNone) {
  // RFC 8725 §2.1: an unsecured JWS must never be accepted where a signature is expected.
  const std::string claims = boost::json::serialize(sample_claims());
  for (const char* header : {R"({"alg":"none"})", R"({"alg":"None"})", R"({"alg":"NONE"})"}) {
    const std::string token = compact(header, claims, "");
    ASSERT_TRUE(decode_jwt(token).ok()) << header;
    EXPECT_FALSE(decodes_and_verifies(token, rsa_key().public_key())) << header;
    EXPECT_FALSE(decodes_and_verifies(token, ec_key().public_key())) << header;
  }
}

TEST(Jose, RefusesHs256KeyConfusion) {
  // RFC 8725 §2.1: an attacker HMACs the token with the server's public key as the secret.
  const std::string claims = boost::json::serialize(sample_claims());
  const std::string header = R"({"alg":"HS256","kid":"rsa-1"})";
  const std::string input = base64url_encode(header) + "." + base64url_encode(claims);
  const std::vector<std::string> secrets = {
      boost::json::serialize(rsa_key().public_jwk()),
      std::string(rsa_key().public_key().jwk().at("n").as_string()),
  };
  for (const std::string& secret : secrets) {
    const std::string token = input + "." + base64url_encode(hmac_sha256(secret, input));
    EXPECT_FALSE(decodes_and_verifies(token, rsa_key().public_key()));
  }
}

TEST(Jose, RefusesAlgOutsideAllowList) {
  // Correctly signed by the right key, but the header names another or no algorithm.
  for (const char* header :
       {R"({"alg":"RS512"})", R"({"alg":"PS256"})", R"({"alg":"rs256"})", R"({"alg":"RS256 "})",
        R"({"kid":"rsa-1"})", R"({"alg":null})", R"({"alg":256})", R"({"alg":["RS256"]})"}) {
    EXPECT_FALSE(
        decodes_and_verifies(signed_with_header(rsa_key(), header), rsa_key().public_key()))
        << header;
  }
  EXPECT_TRUE(decodes_and_verifies(signed_with_header(rsa_key(), R"({"alg":"RS256"})"),
                                   rsa_key().public_key()));
}

TEST(Jose, RefusesAlgThatDoesNotMatchKey) {
  // An ES256 token checked against an RSA key, and the reverse, with headers rewritten too.
  EXPECT_FALSE(decodes_and_verifies(sign_jwt(ec_key(), sample_claims()), rsa_key().public_key()));
  EXPECT_FALSE(decodes_and_verifies(sign_jwt(rsa_key(), sample_claims()), ec_key().public_key()));
  EXPECT_FALSE(decodes_and_verifies(signed_with_header(ec_key(), R"({"alg":"RS256"})"),
                                    rsa_key().public_key()));
  EXPECT_FALSE(decodes_and_verifies(signed_with_header(rsa_key(), R"({"alg":"ES256"})"),
                                    ec_key().public_key()));
  EXPECT_FALSE(rsa_key().public_key().verify("ES256", "a.b", std::string(64, 'x')));
}

TEST(Jose, RefusesTokenSignedWithAnotherKey) {
  EXPECT_FALSE(
      decodes_and_verifies(sign_jwt(other_rsa_key(), sample_claims()), rsa_key().public_key()));
  EXPECT_FALSE(
      decodes_and_verifies(sign_jwt(other_ec_key(), sample_claims()), ec_key().public_key()));
}

TEST(Jose, RefusesCriticalHeaderExtensions) {
  // RFC 7515 §4.1.11: unknown "crit" extensions make the JWS invalid.
  EXPECT_FALSE(decodes_and_verifies(
      signed_with_header(rsa_key(), R"({"alg":"RS256","crit":["b64"],"b64":false})"),
      rsa_key().public_key()));
}

TEST(Jose, DuplicateHeaderNamesUseTheLastOne) {
  // RFC 7515 §4: a parser that keeps only the lexically last duplicate member is conforming.
  EXPECT_FALSE(decodes_and_verifies(
      signed_with_header(rsa_key(), R"({"alg":"RS256","alg":"none"})"), rsa_key().public_key()));
  EXPECT_TRUE(decodes_and_verifies(signed_with_header(rsa_key(), R"({"alg":"none","alg":"RS256"})"),
                                   rsa_key().public_key()));
}

TEST(Jose, DecodeRejectsMalformedInput) {
  const std::string good = sign_jwt(ec_key(), sample_claims());
  const std::string h = good.substr(0, good.find('.'));
  const std::string c = base64url_encode(boost::json::serialize(sample_claims()));
  const std::string s = good.substr(good.rfind('.') + 1);
  const std::vector<std::string> bad = {
      "",
      ".",
      "..",
      "...",
      "abc",
      h,
      h + "." + c,
      h + "." + c + "." + s + ".",
      h + "." + c + "." + s + "." + s + "." + s,  // JWE-shaped
      "." + c + "." + s,
      h + ".." + s,
      h + "=." + c + "." + s,  // padding (RFC 7515 §2)
      h + "." + c + "." + s + "=",
      h + "." + c + "." + s + "!",
      h + "." + c + "+." + s,
      "!!!." + c + "." + s,
      h + "." + c + ".@@",
      base64url_encode("[1,2]") + "." + c + "." + s,    // header not an object
      h + "." + base64url_encode("\"sub\"") + "." + s,  // claims not an object
      h + "." + base64url_encode("null") + "." + s,
      h + "." + base64url_encode("{\"a\":1") + "." + s,    // truncated JSON
      h + "." + base64url_encode("{\"a\":1}x") + "." + s,  // trailing garbage
      h + "." + base64url_encode("{'a':1}") + "." + s,
      h + "." + base64url_encode("{\"a\":\"\xff\"}") + "." + s,  // invalid UTF-8
      h + "." + base64url_encode(std::string(100, '[') + std::string(100, ']')) + "." + s,
      h + "." + base64url_encode(std::string(10000, '{')) + "." + s,
      std::string("\0.\0.\0", 5),
  };
  for (const auto& token : bad) {
    auto jwt = decode_jwt(token);
    ASSERT_FALSE(jwt.ok()) << token;
    EXPECT_EQ(jwt.error().code(), "invalid_grant");
    EXPECT_EQ(jwt.error().description(), "invalid assertion");
  }
}

TEST(Jose, DecodeNeverThrowsOnMutatedTokens) {
  const std::string good = sign_jwt(rsa_key(), sample_claims());
  std::mt19937 rng(12345);
  const std::string alphabet("AZaz09-_.=+/!{}\"\0\xff", 18);
  for (int i = 0; i < 5000; ++i) {
    std::string token = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = rng() % token.size();
      switch (rng() % 3) {
        case 0:
          token[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          token.erase(pos, 1 + rng() % 8);
          break;
        default:
          token.insert(pos, 1, alphabet[rng() % alphabet.size()]);
      }
      if (token.empty()) break;
    }
    EXPECT_NO_THROW({
      auto jwt = decode_jwt(token);
      if (jwt.ok()) (void)verify_jwt(*jwt, rsa_key().public_key());
    }) << token;
  }
  for (int i = 0; i < 2000; ++i) {
    std::string noise(rng() % 64, '\0');
    for (auto& ch : noise) ch = static_cast<char>(rng() & 0xFF);
    EXPECT_NO_THROW((void)decode_jwt(noise));
  }
}

}  // namespace
}  // namespace latchkey::crypto
