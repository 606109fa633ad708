// RFC 9068 JWT access tokens minted by TokenIssuer for --token-format jwt apps: a token bound
// to a client certificate carries the binding (RFC 8705 §3.1 cnf.x5t#S256), so a resource
// server that validates the JWT alone can enforce it.
#include "token/jwt_access_tokens.h"

#include <gtest/gtest.h>

#include "crypto/jose.h"
#include "oidc/user_endpoints.h"
#include "unit/support/test_support.h"

namespace latchkey::oauth {
namespace {

using testsupport::kIssuer;
using testsupport::TestWorld;

class JwtAccessTokenTest : public ::testing::Test {
 protected:
  JwtAccessTokenTest() : stack_(world_, kIssuer) {
    app_ = world_.add_app([](store::App& a) { a.token_format = store::TokenFormat::jwt; });
  }

  boost::json::object issue(const std::string& cnf_x5t) {
    GrantInput in{app_, world_.user(), {"api"}};
    in.grant_type = "client_credentials";
    in.cnf_x5t = cnf_x5t;
    Issued out = testsupport::durable(stack_.issuer.issue(in));
    auto jwt = crypto::decode_jwt(out.access_token);
    EXPECT_TRUE(jwt.ok()) << out.access_token;
    EXPECT_TRUE(crypto::verify_jwt(*jwt, stack_.keys.current()->signing_key("RS256").public_key()));
    // The stored row carries the same binding that latchkey's own endpoints enforce.
    auto row = world_.db().find_token(token::ref_of(out.access_token));
    EXPECT_TRUE(row.has_value());
    if (row) {
      EXPECT_EQ(row->cnf_x5t, cnf_x5t);
    }
    return jwt->claims;
  }

  TestWorld world_;
  testsupport::IssuerStack stack_;
  store::App app_;
};

TEST_F(JwtAccessTokenTest, CertificateBoundTokenCarriesCnfX5t) {
  const std::string thumbprint = crypto::base64url_encode(crypto::sha256("a certificate"));
  auto c = issue(thumbprint);
  ASSERT_TRUE(c.contains("cnf")) << boost::json::serialize(c);
  EXPECT_EQ(c.at("cnf"), (boost::json::object{{"x5t#S256", thumbprint}}));
}

TEST_F(JwtAccessTokenTest, UnboundTokenHasNoCnf) {
  auto c = issue("");
  EXPECT_FALSE(c.contains("cnf"));
}

// docs/behaviour.md §5.12: --token-format jwt keeps RFC 9068's typ; jwt-sf says "JWT", as
// Salesforce's JWT access tokens do (the Salesforce CLI takes no other), with the same claims,
// signed by the same key, and accepted by latchkey's resources as any token it issued.
TEST_F(JwtAccessTokenTest, TheTypOfTheHeaderFollowsTheTokenFormat) {
  store::App sf = world_.add_app([](store::App& a) {
    a.token_format = store::TokenFormat::jwt_sf;
    a.scopes = {"api", "web", "refresh_token"};
  });
  for (const store::App& app : {app_, sf}) {
    GrantInput in{app, world_.user(), {"api"}};
    in.grant_type = "client_credentials";
    Issued out = testsupport::durable(stack_.issuer.issue(in));
    auto jwt = crypto::decode_jwt(out.access_token);
    ASSERT_TRUE(jwt.ok()) << out.access_token;
    EXPECT_EQ(jwt->header.at("typ").as_string(),
              app.token_format == store::TokenFormat::jwt_sf ? "JWT" : "at+jwt");
    EXPECT_EQ(jwt->header.at("alg").as_string(), "RS256");
    EXPECT_TRUE(crypto::verify_jwt(*jwt, stack_.keys.current()->signing_key("RS256").public_key()));
    EXPECT_EQ(jwt->claims.at("client_id").as_string(), app.client_id);
    EXPECT_EQ(jwt->claims.at("aud").as_string(), kIssuer);

    oidc::UserEndpoints users(stack_.opaque, world_.db(), kIssuer);
    http::Request req;
    req.method = "GET";
    req.target = req.path = "/services/oauth2/userinfo";
    req.headers.emplace_back("authorization", "Bearer " + out.access_token);
    http::Response r = users.userinfo(req);
    EXPECT_EQ(r.status, 200u) << r.body;
  }
}

TEST_F(JwtAccessTokenTest, ARevokedTypJwtTokenIsRefusedLikeAnyOther) {
  // Validated by its stored row, as every token latchkey issues: revoked means refused, for
  // all its valid signature.
  store::App sf =
      world_.add_app([](store::App& a) { a.token_format = store::TokenFormat::jwt_sf; });
  GrantInput in{sf, world_.user(), {"api"}};
  in.grant_type = "client_credentials";
  Issued out = testsupport::durable(stack_.issuer.issue(in));
  ASSERT_EQ(world_.db().revoke_token(token::ref_of(out.access_token)), 1);
  oidc::UserEndpoints users(stack_.opaque, world_.db(), kIssuer);
  http::Request req;
  req.method = "GET";
  req.target = req.path = "/services/oauth2/userinfo";
  req.headers.emplace_back("authorization", "Bearer " + out.access_token);
  EXPECT_EQ(users.userinfo(req).status, 401u);
}

}  // namespace
}  // namespace latchkey::oauth
