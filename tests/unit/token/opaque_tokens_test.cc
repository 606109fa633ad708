// Opaque tokens carry their row id: the store finds a presented token by that id and accepts it
// only if the whole token hashes to what is stored, so an altered id or secret is refused.
#include "token/opaque_tokens.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/crypto.h"
#include "unit/support/test_support.h"

namespace latchkey::token {
namespace {

using testsupport::TestWorld;

class OpaqueTokensTest : public ::testing::Test {
 protected:
  // Mints an access token as the issuer does and stores its row.
  std::string mint_access() {
    store::Token t;
    t.id = world_.db().allocate_id();
    std::string presented = opaque_.new_access_token(world_.org().id, t.id);
    t.token_hash = hash_of(presented);
    t.kind = store::TokenKind::access;
    t.client_id = "3MVGapp";
    t.user_id = world_.user().id;
    t.org_id = world_.org().id;
    t.issued_ms = world_.clock().now_ms();
    t.expires_ms = t.issued_ms + 60'000;
    world_.db().save_tokens({t});
    return presented;
  }

  TestWorld world_;
  OpaqueTokens opaque_{world_.db(), world_.random(), world_.clock()};
};

TEST_F(OpaqueTokensTest, AccessTokenLooksLikeASalesforceSessionIdAndCarriesItsId) {
  int64_t id = world_.db().allocate_id();
  std::string token = opaque_.new_access_token("00Dorg", id);
  ASSERT_TRUE(token.starts_with("00Dorg!"));
  EXPECT_EQ(token.size(), std::string("00Dorg!").size() + 54);  // base64url of 8 + 32 bytes
  EXPECT_EQ(ref_of(token).id, id);
  EXPECT_EQ(ref_of(token).hash, hash_of(token));
  EXPECT_NE(opaque_.new_access_token("00Dorg", id), token) << "the secret part is random";
}

TEST_F(OpaqueTokensTest, RefreshTokenCarriesItsId) {
  int64_t id = world_.db().allocate_id();
  std::string token = opaque_.new_refresh_token(id);
  ASSERT_TRUE(token.starts_with("5Aep"));
  EXPECT_EQ(ref_of(token).id, id);
}

TEST_F(OpaqueTokensTest, CodeIsABareBodyCarryingItsId) {
  int64_t id = world_.db().allocate_code_id();
  std::string code = new_code(id, world_.random());
  EXPECT_EQ(code.size(), 54u);
  EXPECT_EQ(
      code.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos)
      << "codes go into redirect URIs unescaped";
  EXPECT_EQ(ref_of(code).id, id);
}

TEST_F(OpaqueTokensTest, TokensWithoutAnIdAreLookedUpByHash) {
  // A token minted before ids (32 random bytes), a JWT, and junk of the right length.
  for (const std::string& t :
       {std::string("00Dorg!") + crypto::base64url_encode(std::string(32, 'x')),
        std::string("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"),
        std::string("00Dorg!") + std::string(54, '*'), std::string("5Aep") + std::string(54, '.'),
        std::string(54, 'A'), std::string("!") + crypto::base64url_encode(std::string(40, '\0'))}) {
    EXPECT_EQ(ref_of(t).id, 0) << t;
    EXPECT_EQ(ref_of(t).hash, hash_of(t)) << t;
  }
}

TEST_F(OpaqueTokensTest, IssuedTokenValidatesAndAnAlteredOneDoesNot) {
  std::string token = mint_access();
  ASSERT_TRUE(opaque_.validate_access(token).ok());
  const std::size_t body = token.find('!') + 1;
  // Another id with the same secret, and the same id with another secret.
  std::string other_id = token;
  other_id[body + 9] = other_id[body + 9] == 'A' ? 'B' : 'A';
  std::string other_secret = token;
  other_secret.back() = other_secret.back() == 'A' ? 'B' : 'A';
  for (const std::string& t : {other_id, other_secret}) {
    auto r = opaque_.validate_access(t);
    ASSERT_FALSE(r.ok()) << t;
    EXPECT_EQ(r.error().code(), "invalid_token");
    EXPECT_FALSE(opaque_.find_live(t).has_value());
  }
}

}  // namespace
}  // namespace latchkey::token
