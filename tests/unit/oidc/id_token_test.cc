// OIDC Core §2 authentication claims (auth_time, acr, amr) in ID tokens and RFC 9068 §2.2.1
// JWT access tokens: present for an interactive (password) login, absent otherwise.
#include "oidc/id_token.h"

#include <gtest/gtest.h>

#include "crypto/jose.h"
#include "unit/support/test_support.h"

namespace latchkey::oidc {
namespace {

using testsupport::kIssuer;
using testsupport::str;
using testsupport::TestWorld;

class AuthenticationClaimsTest : public ::testing::Test {
 protected:
  AuthenticationClaimsTest() : stack_(world_, kIssuer) { app_ = world_.add_app(); }

  boost::json::object id_token_claims(int64_t auth_time_s) {
    std::vector<std::string> scopes{"openid"};
    auto jwt = crypto::decode_jwt(
        stack_.ids.make({app_, world_.user(), scopes, "nonce", auth_time_s, "", ""}));
    EXPECT_TRUE(jwt.ok());
    return jwt->claims;
  }
  boost::json::object access_token_claims(int64_t auth_time_s) {
    const int64_t now = world_.clock().now_s();
    auto jwt = crypto::decode_jwt(
        stack_.jwts.make(app_, world_.user(), {"api"}, now, now + 60, auth_time_s));
    EXPECT_TRUE(jwt.ok());
    return jwt->claims;
  }

  TestWorld world_;
  testsupport::IssuerStack stack_;
  store::App app_;
};

TEST_F(AuthenticationClaimsTest, InteractiveLoginGivesAuthTimeAcrAndAmr) {
  const int64_t login = world_.clock().now_s() - 30;
  for (const auto& c : {id_token_claims(login), access_token_claims(login)}) {
    EXPECT_EQ(c.at("auth_time").to_number<int64_t>(), login);
    EXPECT_EQ(str(c, "acr"), "urn:latchkey:acr:password");
    EXPECT_EQ(c.at("amr"), (boost::json::array{"pwd"}));  // RFC 8176 §2
  }
}

// Refresh, bearer-assertion and client credentials grants involve no login: claiming a
// password login there would be false.
TEST_F(AuthenticationClaimsTest, NoInteractiveLoginGivesNone) {
  for (const auto& c : {id_token_claims(0), access_token_claims(0)}) {
    EXPECT_FALSE(c.contains("auth_time"));
    EXPECT_FALSE(c.contains("acr"));
    EXPECT_FALSE(c.contains("amr"));
  }
}

}  // namespace
}  // namespace latchkey::oidc
