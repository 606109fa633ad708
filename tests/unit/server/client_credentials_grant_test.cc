#include "oauth/grants/client_credentials_grant.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "oauth/token_issuer.h"
#include "unit/server/test_support.h"

namespace latchkey::oauth {
namespace {

using testsupport::kIssuer;
using testsupport::params;
using testsupport::post_request;
using testsupport::str;
using testsupport::TestWorld;

constexpr const char* kNotApproved = "user hasn't approved this consumer";

class ClientCredentialsGrantTest : public ::testing::Test {
 protected:
  ClientCredentialsGrantTest()
      : stack_(world_, kIssuer), grant_(world_.db(), world_.db(), issuer_) {}

  // An app whose run-as user is the world's user; `admin_approved`: --permitted-users
  // admin-approved.
  store::App run_as_app(bool admin_approved) {
    return world_.add_app([&](store::App& a) {
      a.client_credentials_user_id = world_.user().id;
      a.admin_approved_only = admin_approved;
    });
  }

  Result<boost::json::object> request(const store::App& app,
                                      AuthMethod method = AuthMethod::client_secret_basic) {
    http::Params p = params({{"grant_type", "client_credentials"}});
    http::Request req = post_request();
    ClientAuth client = testsupport::client_auth(app, method, TestWorld::secret());
    return testsupport::answer_of(grant_.handle(TokenRequest{req, p, client}));
  }

  static void expect_refused(const Result<boost::json::object>& r, const char* description) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), "invalid_grant");
    EXPECT_EQ(r.error().description(), description);
  }

  std::string id_url() const {
    return std::string(kIssuer) + "/id/" + world_.org().id + "/" + world_.user().id;
  }

  TestWorld world_;
  testsupport::IssuerStack stack_;
  TokenIssuer& issuer_ = stack_.issuer;
  ClientCredentialsGrant grant_;
};

TEST_F(ClientCredentialsGrantTest, ServesClientCredentialsGrantType) {
  EXPECT_EQ(grant_.grant_type(), "client_credentials");
}

TEST_F(ClientCredentialsGrantTest, TokenActsAsRunAsUserWithoutRefreshToken) {
  // docs/behaviour.md §5.8; a self-authorize app needs no approval recorded for its run-as user:
  // nobody is there to ask, and the admin chose the user.
  auto r = request(run_as_app(/*admin_approved=*/false));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(str(r.value(), "id"), id_url());
  EXPECT_FALSE(r.value().contains("refresh_token"));  // though refresh_token is an app scope
  EXPECT_FALSE(r.value().contains("id_token"));       // nobody logged in
}

TEST_F(ClientCredentialsGrantTest, UnauthenticatedClientIsInvalidClient) {
  // RFC 6749 §4.4: confidential clients only.
  auto r = request(run_as_app(false), AuthMethod::none);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(ClientCredentialsGrantTest, AppWithoutRunAsUserIsRefused) {
  expect_refused(request(world_.add_app()), "no client credentials user enabled");
}

TEST_F(ClientCredentialsGrantTest, InactiveRunAsUserIsAuthenticationFailure) {
  // Salesforce's description for a user who cannot log in (docs/behaviour.md §5).
  auto app = run_as_app(false);
  ASSERT_TRUE(request(app).ok());
  ASSERT_TRUE(world_.db().set_user_active(world_.user().id, false));
  expect_refused(request(app), "authentication failure");
}

TEST_F(ClientCredentialsGrantTest, AdminApprovedAppRefusesRunAsUserNotPreauthorized) {
  // Issue 3 (approval model): a user an admin-approved app does not cover cannot use it in any
  // flow, the run-as user of client credentials included.
  expect_refused(request(run_as_app(/*admin_approved=*/true)), kNotApproved);
}

TEST_F(ClientCredentialsGrantTest, AdminApprovedAppServesRunAsUserPreauthorizedByProfile) {
  auto app = run_as_app(true);
  store::Preauthorization pre{app.client_id, store::Preauthorization::Kind::profile,
                              world_.user().profile};
  world_.db().add_preauthorization(pre);
  auto r = request(app);
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(str(r.value(), "id"), id_url());
  // Withdrawn (app unpreauthorize): refused again.
  ASSERT_TRUE(world_.db().remove_preauthorization(pre));
  expect_refused(request(app), kNotApproved);
}

TEST_F(ClientCredentialsGrantTest, AdminApprovedAppServesRunAsUserPreauthorizedByPermissionSet) {
  auto app = run_as_app(true);
  world_.db().add_preauthorization(
      {app.client_id, store::Preauthorization::Kind::permission_set, "API Only"});
  expect_refused(request(app), kNotApproved);  // the user does not hold the set yet
  ASSERT_TRUE(
      world_.db().update_user_access(world_.user().id, world_.user().profile, {"API Only"}));
  auto r = request(app);
  ASSERT_TRUE(r.ok()) << r.error().description();
}

TEST_F(ClientCredentialsGrantTest, InactiveIsReportedBeforeNotApproved) {
  // An inactive user is refused as such even where the approval would refuse it too.
  auto app = run_as_app(true);
  ASSERT_TRUE(world_.db().set_user_active(world_.user().id, false));
  expect_refused(request(app), "authentication failure");
}

}  // namespace
}  // namespace latchkey::oauth
