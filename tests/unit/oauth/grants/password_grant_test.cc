// grant_type=password (docs/behaviour.md §5.11): only for apps with --allow-password-flow and
// clients that authenticate; Salesforce's "authentication failure" for every refused
// credential; the login page's throttle; no refresh token; login events.
#include "oauth/grants/password_grant.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "http/params.h"
#include "oauth/client_auth.h"
#include "oauth/login_throttle.h"
#include "oauth/token_endpoint.h"
#include "oauth/token_issuer.h"
#include "unit/support/test_support.h"

namespace latchkey::oauth {
namespace {

using testsupport::kIssuer;
using testsupport::params;
using testsupport::post_request;
using testsupport::str;
using testsupport::TestWorld;

constexpr const char* kUsername = "dana@localhost";
constexpr const char* kPassword = "dana's long password";

class PasswordGrantTest : public ::testing::Test {
 protected:
  PasswordGrantTest()
      : stack_(world_, kIssuer),
        // The smallest Argon2id cost: these tests are about the rules, not hashing.
        passwords_(world_.random(), {8, 1, 1}),
        throttle_(world_.clock()),
        grant_(world_.db(), world_.db(), stack_.issuer, passwords_, throttle_, world_.events(),
               world_.random(), {}) {
    store::User u;
    u.id = "005000000000004AAA";
    u.org_id = world_.org().id;
    u.username = kUsername;
    u.email = kUsername;
    u.password_hash = passwords_.hash(kPassword);
    u.profile = "Standard User";
    u.created_ms = world_.clock().now_ms();
    EXPECT_TRUE(world_.db().create_user(u));
    user_id_ = u.id;
    app_ = world_.add_app([](store::App& a) {
      a.allow_password_flow = true;
      a.scopes = {"api", "id", "refresh_token", "openid"};
    });
  }

  Result<boost::json::object> login(const store::App& app, const std::string& username,
                                    const std::string& password,
                                    AuthMethod method = AuthMethod::client_secret_post,
                                    const std::string& addr = "192.0.2.10") {
    http::Params p =
        params({{"grant_type", "password"}, {"username", username}, {"password", password}});
    http::Request req = post_request();
    req.remote_addr = addr;
    ClientAuth client = testsupport::client_auth(app, method, TestWorld::secret());
    return testsupport::answer_of(grant_.handle(TokenRequest{req, p, client}));
  }

  static void expect_authentication_failure(const Result<boost::json::object>& r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), "invalid_grant");
    EXPECT_EQ(r.error().description(), "authentication failure");
  }

  TestWorld world_;
  testsupport::IssuerStack stack_;
  crypto::PasswordHasher passwords_;
  LoginThrottle throttle_;
  PasswordGrant grant_;
  store::App app_;
  std::string user_id_;
};

TEST_F(PasswordGrantTest, ServesThePasswordGrantType) {
  EXPECT_EQ(grant_.grant_type(), "password");
}

TEST_F(PasswordGrantTest, TheRightPasswordGivesAnAccessTokenForTheUserWithoutRefreshToken) {
  auto r = login(app_, kUsername, kPassword);
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_FALSE(str(r.value(), "access_token").empty());
  EXPECT_EQ(str(r.value(), "id"), std::string(kIssuer) + "/id/" + world_.org().id + "/" + user_id_);
  EXPECT_EQ(str(r.value(), "scope"), "api id refresh_token openid");
  EXPECT_FALSE(r.value().contains("refresh_token"));  // though refresh_token was granted
  EXPECT_FALSE(r.value().contains("id_token"));
  EXPECT_EQ(world_.events().count("login_success"), 1u);
}

TEST_F(PasswordGrantTest, TheUsernameMatchesWhateverItsCase) {
  EXPECT_TRUE(login(app_, "DANA@localhost", kPassword).ok());
}

TEST_F(PasswordGrantTest, AWrongPasswordOrUnknownOrInactiveUserIsAuthenticationFailure) {
  expect_authentication_failure(login(app_, kUsername, "not it"));
  expect_authentication_failure(login(app_, "nobody@localhost", kPassword));
  ASSERT_TRUE(world_.db().set_user_active(user_id_, false));
  expect_authentication_failure(login(app_, kUsername, kPassword));
  EXPECT_EQ(world_.events().count("login_failure"), 3u);
  EXPECT_EQ(world_.events().count("login_success"), 0u);
  // A failed login names the user only when the username is one (never what was typed).
  for (const auto& e : world_.events().all()) {
    EXPECT_EQ(e.user.find("nobody"), std::string::npos);
  }
}

TEST_F(PasswordGrantTest, AnAppWithoutTheOptionRefusesEvenTheRightPassword) {
  store::App plain = world_.add_app();
  expect_authentication_failure(login(plain, kUsername, kPassword));
  // Refused before the password is checked: no login event, nothing counted against the user.
  EXPECT_EQ(world_.events().count("login_failure"), 0u);
  EXPECT_EQ(world_.events().count("login_success"), 0u);
}

TEST_F(PasswordGrantTest, AClientThatDidNotAuthenticateIsInvalidClient) {
  auto r = login(app_, kUsername, kPassword, AuthMethod::none);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(PasswordGrantTest, AMissingUsernameOrPasswordIsInvalidRequest) {
  http::Request req = post_request();
  ClientAuth client =
      testsupport::client_auth(app_, AuthMethod::client_secret_post, TestWorld::secret());
  for (http::Params p : {params({{"grant_type", "password"}, {"password", kPassword}}),
                         params({{"grant_type", "password"}, {"username", kUsername}})}) {
    auto r = testsupport::answer_of(grant_.handle(TokenRequest{req, p, client}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), "invalid_request");
  }
}

// The login page's rule (oauth/login_throttle.h): 5 free failures per (username, address), then
// refused unchecked, the right password included; another address is not held back.
TEST_F(PasswordGrantTest, FailuresHoldBackTheUserFromTheAddressThatFailed) {
  for (int i = 0; i < LoginThrottle::kFreePerUserAndAddress; ++i) {
    expect_authentication_failure(login(app_, kUsername, "wrong " + std::to_string(i)));
  }
  expect_authentication_failure(login(app_, kUsername, kPassword));
  EXPECT_EQ(world_.events().all().back().detail, "locked_out");
  EXPECT_TRUE(
      login(app_, kUsername, kPassword, AuthMethod::client_secret_post, "198.51.100.3").ok());
}

// The same throttle object as the login page: failures at one count at the other.
TEST_F(PasswordGrantTest, FailuresCountedElsewhereHoldBackThePasswordGrant) {
  const auto keys = LoginThrottle::keys_of(kUsername, "192.0.2.10");
  for (int i = 0; i < LoginThrottle::kFreePerUserAndAddress; ++i) throttle_.failure(keys);
  expect_authentication_failure(login(app_, kUsername, kPassword));
}

TEST_F(PasswordGrantTest, AnAdminApprovedAppServesOnlyUsersItCovers) {
  store::App approved = world_.add_app([](store::App& a) {
    a.allow_password_flow = true;
    a.admin_approved_only = true;
  });
  auto r = login(approved, kUsername, kPassword);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
  EXPECT_EQ(r.error().description(), "user hasn't approved this consumer");
  world_.db().add_preauthorization(
      {approved.client_id, store::Preauthorization::Kind::profile, "Standard User"});
  EXPECT_TRUE(login(approved, kUsername, kPassword).ok());
}

// Through the endpoint, as jsforce's login() posts it (secret in the body): served, with the
// client's secret checked first, yet not advertised in grant_types_supported (RFC 9700 §2.4).
TEST_F(PasswordGrantTest, TheEndpointServesItWithoutAdvertisingIt) {
  ClientAuthenticator clients(world_.db(), world_.db(), world_.clock(), kIssuer);
  TokenEndpoint endpoint(clients, world_.events());
  endpoint.add(std::make_unique<PasswordGrant>(world_.db(), world_.db(), stack_.issuer, passwords_,
                                               throttle_, world_.events(), world_.random(),
                                               std::vector<http::Cidr>{}));
  EXPECT_TRUE(endpoint.grant_types().empty());
  auto post = [&](const std::string& secret) {
    http::Request r =
        testsupport::post_request({{"content-type", "application/x-www-form-urlencoded"}});
    r.body = "grant_type=password&client_id=" + http::form_encode(app_.client_id) +
             "&client_secret=" + http::form_encode(secret) +
             "&username=" + http::form_encode(kUsername) +
             "&password=" + http::form_encode(kPassword);
    return testsupport::released(endpoint.handle(r));
  };
  http::Response ok = post(TestWorld::secret());
  ASSERT_EQ(ok.status, 200u) << ok.body;
  EXPECT_TRUE(boost::json::parse(ok.body).as_object().contains("access_token"));
  http::Response wrong_secret = post("not the secret");
  EXPECT_EQ(wrong_secret.status, 400u) << wrong_secret.body;
  EXPECT_EQ(boost::json::parse(wrong_secret.body).at("error").as_string(), "invalid_client");
}

}  // namespace
}  // namespace latchkey::oauth
