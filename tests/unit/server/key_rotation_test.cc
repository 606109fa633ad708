// Signing-key rotation (issue: OIDC completeness) and JWT access tokens (RFC 9068).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "app/application.h"

#include "crypto/jose.h"
#include "oidc/id_token.h"
#include "keys/current_key_ring.h"
#include "keys/key_ring.h"
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
  keys::KeyRing before(world.db(), testsupport::test_sealer(), world.random(), world.clock());
  std::string old_kid = before.signing_key("RS256").kid();

  std::string new_kid = keys::KeyRing::rotate(world.db(), testsupport::test_sealer(),
                                              world.random(), world.clock(), "RS256");
  ASSERT_NE(new_kid, old_kid);
  keys::KeyRing after(world.db(), testsupport::test_sealer(), world.random(), world.clock());
  EXPECT_EQ(after.signing_key("RS256").kid(), new_kid);
  // The ES256 key was not rotated.
  EXPECT_EQ(after.signing_key("ES256").kid(), before.signing_key("ES256").kid());

  // A token signed before the rotation still verifies with a key from the new JWKS.
  keys::CurrentKeyRing before_ring(std::make_shared<const keys::KeyRing>(before));
  IdTokens old_ids(before_ring, world.clock(), "http://issuer.test");
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
  keys::KeyRing before(world.db(), testsupport::test_sealer(), world.random(), world.clock());
  std::string old_kid = before.signing_key("RS256").kid();
  keys::KeyRing::rotate(world.db(), testsupport::test_sealer(), world.random(), world.clock(),
                        "RS256");
  world.clock().advance_s(keys::kRetiredKeyPublishedMs / 1000 + 1);
  keys::KeyRing later(world.db(), testsupport::test_sealer(), world.random(), world.clock());
  const auto jwks = later.jwks();
  ASSERT_FALSE(jwks.at("keys").as_array().empty());
  for (const auto& k : jwks.at("keys").as_array()) {
    EXPECT_NE(k.at("kid").as_string(), old_kid);
  }
}

// SIGHUP after `keys rotate`: the server replaces its ring. Tokens made afterwards carry the new
// kid and the JWKS publishes both keys; a ring a request took before the swap stays usable.
TEST(KeyRotation, ReplacedRingSignsNewTokensWhileHeldRingsStayIntact) {
  TestWorld world;
  keys::CurrentKeyRing keys(std::make_shared<const keys::KeyRing>(
      world.db(), testsupport::test_sealer(), world.random(), world.clock()));
  IdTokens ids(keys, world.clock(), "http://issuer.test");
  token::JwtAccessTokens jwts(keys, world.random(), "http://issuer.test");
  store::App app;
  app.client_id = "3MVG9x";
  std::vector<std::string> scopes{"openid"};
  std::shared_ptr<const keys::KeyRing> held = keys.current();
  const std::string old_kid = held->signing_key("RS256").kid();
  std::string old_token = ids.make({app, world.user(), scopes, "", 0, "", ""});
  ASSERT_EQ(kid_of(old_token), old_kid);

  std::string new_kid = keys::KeyRing::rotate(world.db(), testsupport::test_sealer(),
                                              world.random(), world.clock(), "RS256");
  // Rotating in the store alone changes nothing until the ring is reloaded.
  EXPECT_EQ(kid_of(ids.make({app, world.user(), scopes, "", 0, "", ""})), old_kid);
  keys.replace(std::make_shared<const keys::KeyRing>(world.db(), testsupport::test_sealer(),
                                                     world.random(), world.clock()));

  EXPECT_EQ(kid_of(ids.make({app, world.user(), scopes, "", 0, "", ""})), new_kid);
  EXPECT_EQ(kid_of(jwts.make(app, world.user(), {"api"}, 1000, 8200, 0)), new_kid);
  const std::string& published = keys.current()->jwks_json();
  EXPECT_NE(published.find(new_kid), std::string::npos) << published;
  EXPECT_NE(published.find(old_kid), std::string::npos) << "the old key left the JWKS";
  // The old token verifies against the new ring's copy of the old key.
  auto decoded = crypto::decode_jwt(old_token);
  ASSERT_TRUE(decoded.ok());
  bool verified = false;
  for (const auto& k : keys.current()->keys()) {
    if (k.kid() == old_kid) verified = crypto::verify_jwt(*decoded, k.public_key());
  }
  EXPECT_TRUE(verified);
  // The ring held across the swap is whole: same key, still signs.
  EXPECT_EQ(held->signing_key("RS256").kid(), old_kid);
  EXPECT_TRUE(crypto::verify_jwt(*decoded, held->signing_key("RS256").public_key()));
}

// What the server does on SIGHUP: /id/keys then publishes the rotated key beside the old one.
TEST(KeyRotation, ApplicationReloadsSigningKeysFromTheStore) {
  TestWorld world;
  app::AppOptions options;
  options.issuer = "http://issuer.test";
  app::Application application(world.db().stores(), world.random(), world.clock(),
                               testsupport::test_sealer(), options);
  http::Request jwks;
  jwks.method = "GET";
  jwks.path = jwks.target = "/id/keys";
  const std::string before = application.handle(jwks).body;
  std::string new_kid = keys::KeyRing::rotate(world.db(), testsupport::test_sealer(),
                                              world.random(), world.clock(), "ES256");
  EXPECT_EQ(application.handle(jwks).body, before) << "keys changed without a reload";

  auto reloaded = application.reload_signing_keys();
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().debug();
  EXPECT_NE(reloaded->find("ES256 " + new_kid), std::string::npos) << *reloaded;
  const std::string after = application.handle(jwks).body;
  EXPECT_NE(after.find(new_kid), std::string::npos) << after;
  auto old_keys = boost::json::parse(before).at("keys").as_array();
  for (const auto& k : old_keys) {
    EXPECT_NE(after.find(std::string(k.at("kid").as_string())), std::string::npos)
        << "a key published before the reload left the JWKS";
  }
}

TEST(JwtAccessTokens, AreRfc9068JwtsSignedWithTheCurrentKey) {
  TestWorld world;
  keys::CurrentKeyRing keys(std::make_shared<const keys::KeyRing>(
      world.db(), testsupport::test_sealer(), world.random(), world.clock()));
  token::JwtAccessTokens jwts(keys, world.random(), "http://issuer.test");
  store::App app;
  app.client_id = "3MVG9x";
  std::string t = jwts.make(app, world.user(), {"api", "openid"}, 1000, 8200, 990);
  auto d = crypto::decode_jwt(t);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->header.at("typ").as_string(), "at+jwt");  // RFC 9068 §2.1
  EXPECT_TRUE(crypto::verify_jwt(*d, keys.current()->signing_key("RS256").public_key()));
  EXPECT_EQ(d->claims.at("client_id").as_string(), "3MVG9x");
  EXPECT_EQ(d->claims.at("scope").as_string(), "api openid");
  EXPECT_EQ(d->claims.at("exp").as_int64(), 8200);
  EXPECT_EQ(d->claims.at("iss").as_string(), "http://issuer.test");
  EXPECT_EQ(d->claims.at("sub").as_string(),
            token::identity_url("http://issuer.test", world.user()));
  // Two tokens for the same grant differ (jti), so their stored hashes do too.
  EXPECT_NE(t, jwts.make(app, world.user(), {"api", "openid"}, 1000, 8200, 990));
}

}  // namespace
}  // namespace latchkey::oidc
