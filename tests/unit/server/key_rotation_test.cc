// Signing-key rotation (issue: OIDC completeness) and JWT access tokens (RFC 9068).
#include <gtest/gtest.h>

#include "crypto/jose.h"
#include "oidc/id_token.h"
#include "oidc/key_ring.h"
#include "token/jwt_access_tokens.h"
#include "unit/server/test_support.h"

namespace latchkey::oidc {
namespace {

using testsupport::TestWorld;

std::string kid_of(const std::string& jwt) {
  auto d = crypto::decode_jwt(jwt);
  return std::string(d->header.at("kid").as_string());
}

TEST(KeyRotation, NewKeySignsAndTheOldOneStaysPublished) {
  TestWorld world;
  KeyRing before(world.db(), world.random(), world.clock());
  std::string old_kid = before.signing_key("RS256").kid();

  std::string new_kid = KeyRing::rotate(world.db(), world.random(), world.clock(), "RS256");
  ASSERT_NE(new_kid, old_kid);
  KeyRing after(world.db(), world.random(), world.clock());
  EXPECT_EQ(after.signing_key("RS256").kid(), new_kid);
  // The ES256 key was not rotated.
  EXPECT_EQ(after.signing_key("ES256").kid(), before.signing_key("ES256").kid());

  // A token signed before the rotation still verifies with a key from the new JWKS.
  IdTokens old_ids(before, world.clock(), "http://issuer.test");
  store::App app;
  app.client_id = "3MVG9x";
  std::vector<std::string> scopes{"openid"};
  std::string token = old_ids.make({app, world.user(), scopes, "", 0, "", ""});
  bool found = false;
  const auto jwks = after.jwks();
  for (const auto& k : jwks.at("keys").as_array()) {
    if (k.at("kid").as_string() == old_kid) found = true;
  }
  EXPECT_TRUE(found) << "the retired key left the JWKS while its tokens live";
  EXPECT_EQ(kid_of(token), old_kid);
}

TEST(KeyRotation, RetiredKeyLeavesTheJwksAfterThePublishWindow) {
  TestWorld world;
  KeyRing before(world.db(), world.random(), world.clock());
  std::string old_kid = before.signing_key("RS256").kid();
  KeyRing::rotate(world.db(), world.random(), world.clock(), "RS256");
  world.clock().advance_s(kRetiredKeyPublishedMs / 1000 + 1);
  KeyRing later(world.db(), world.random(), world.clock());
  const auto jwks = later.jwks();
  ASSERT_FALSE(jwks.at("keys").as_array().empty());
  for (const auto& k : jwks.at("keys").as_array()) {
    EXPECT_NE(k.at("kid").as_string(), old_kid);
  }
}

TEST(JwtAccessTokens, AreRfc9068JwtsSignedWithTheCurrentKey) {
  TestWorld world;
  KeyRing keys(world.db(), world.random(), world.clock());
  token::JwtAccessTokens jwts(keys, world.random(), "http://issuer.test");
  store::App app;
  app.client_id = "3MVG9x";
  std::string t = jwts.make(app, world.user(), {"api", "openid"}, 1000, 8200, 990);
  auto d = crypto::decode_jwt(t);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->header.at("typ").as_string(), "at+jwt");  // RFC 9068 §2.1
  EXPECT_TRUE(crypto::verify_jwt(*d, keys.signing_key("RS256").public_key()));
  EXPECT_EQ(d->claims.at("client_id").as_string(), "3MVG9x");
  EXPECT_EQ(d->claims.at("scope").as_string(), "api openid");
  EXPECT_EQ(d->claims.at("exp").as_int64(), 8200);
  EXPECT_EQ(d->claims.at("iss").as_string(), "http://issuer.test");
  EXPECT_EQ(d->claims.at("sub").as_string(), identity_url("http://issuer.test", world.user()));
  // Two tokens for the same grant differ (jti), so their stored hashes do too.
  EXPECT_NE(t, jwts.make(app, world.user(), {"api", "openid"}, 1000, 8200, 990));
}

}  // namespace
}  // namespace latchkey::oidc
