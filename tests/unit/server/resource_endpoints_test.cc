// What a live token may see: introspection of a rotated refresh token (RFC 7662 §2.2).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "http/params.h"
#include "oauth/client_auth.h"
#include "oauth/grants/refresh_token_grant.h"
#include "oauth/introspect_endpoint.h"
#include "oauth/token_issuer.h"
#include "oidc/data_resources.h"
#include "oidc/id_token.h"
#include "oidc/user_endpoints.h"
#include "token/opaque_tokens.h"
#include "unit/server/test_support.h"

namespace latchkey::oauth {
namespace {

using testsupport::basic_header;
using testsupport::kIssuer;
using testsupport::params;
using testsupport::post_request;
using testsupport::str;
using testsupport::TestWorld;

class ResourceEndpointsTest : public ::testing::Test {
 protected:
  ResourceEndpointsTest()
      : stack_(world_, kIssuer),
        clients_(world_.db(), world_.clock(), kIssuer),
        introspect_(stack_.opaque, world_.db(), clients_, kIssuer),
        users_(stack_.opaque, world_.db(), kIssuer),
        data_(stack_.opaque, kIssuer) {
    app_ = world_.add_app([](store::App& a) {
      a.scopes = {"api", "refresh_token", "openid", "profile", "email", "id", "full"};
    });
  }

  // An access token (and a refresh token) granted `scopes`, as a code exchange would mint them.
  Issued issue(std::vector<std::string> scopes, const store::App& app) {
    GrantInput in(app, world_.user(), std::move(scopes));
    in.issue_refresh = true;
    in.with_id_token = false;
    return stack_.issuer.issue(in);
  }
  Issued issue(std::vector<std::string> scopes) { return issue(std::move(scopes), app_); }

  http::Response introspect(const std::string& token) {
    http::Request req = post_request(
        {{"authorization", basic_header(app_.client_id, TestWorld::secret())},
         {"content-type", "application/x-www-form-urlencoded"}});
    req.target = req.path = "/services/oauth2/introspect";
    req.body = "token=" + http::form_encode(token);
    return introspect_.handle(req);
  }

  static http::Request get(const std::string& path, const std::string& token) {
    http::Request req;
    req.method = "GET";
    req.target = req.path = path;
    req.remote_addr = "127.0.0.1";
    req.headers.emplace_back("authorization", "Bearer " + token);
    return req;
  }
  http::Response userinfo(const std::string& token) {
    return users_.userinfo(get("/services/oauth2/userinfo", token));
  }
  http::Response identity(const std::string& token) {
    const store::User& u = world_.user();
    return users_.identity(get("/id/" + u.org_id + "/" + u.id, token));
  }
  http::Response data(const std::string& token) {
    return data_.version_root(get("/services/data/v62.0/", token));
  }

  static boost::json::object json(const http::Response& r) {
    return boost::json::parse(r.body).as_object();
  }

  // RFC 6750 §3.1: 403, a Bearer challenge naming the scope, and the JSON error.
  static void expect_insufficient_scope(const http::Response& r, const std::string& scope) {
    EXPECT_EQ(r.status, 403u) << r.body;
    EXPECT_EQ(r.header("www-authenticate").value_or(""),
              "Bearer error=\"insufficient_scope\", scope=\"" + scope + "\"");
    EXPECT_EQ(str(json(r), "error"), "insufficient_scope") << r.body;
    EXPECT_FALSE(str(json(r), "error_description").empty()) << r.body;
    EXPECT_EQ(r.body.find(testsupport::TestWorld::secret()), std::string::npos);
  }

  TestWorld world_;
  testsupport::IssuerStack stack_;
  ClientAuthenticator clients_;
  IntrospectEndpoint introspect_;
  oidc::UserEndpoints users_;
  oidc::DataResources data_;
  store::App app_;
};

// ---- introspection

TEST_F(ResourceEndpointsTest, IntrospectionReportsARotatedRefreshTokenInactive) {
  store::App rotating = world_.add_app([](store::App& a) {
    a.refresh_policy = store::RefreshPolicy::rotate;
  });
  app_ = rotating;
  Issued first = issue({"api", "refresh_token"}, rotating);
  ASSERT_TRUE(json(introspect(first.refresh_token)).at("active").as_bool());

  RefreshTokenGrant grant(world_.db(), world_.db(), world_.db(), stack_.issuer, world_.clock());
  http::Request req = post_request();
  auto refreshed = grant.handle(TokenRequest{
      req, params({{"grant_type", "refresh_token"}, {"refresh_token", first.refresh_token}}),
      testsupport::client_auth(rotating, AuthMethod::client_secret_post, TestWorld::secret())});
  ASSERT_TRUE(refreshed.ok());

  // RFC 7662 §2.2: the old one can no longer be used, so it is not active; only "active".
  http::Response old = introspect(first.refresh_token);
  EXPECT_EQ(old.status, 200u);
  EXPECT_EQ(boost::json::serialize(json(old)), R"({"active":false})");
  // Its successor is.
  EXPECT_TRUE(json(introspect(str(refreshed.value(), "refresh_token"))).at("active").as_bool());
}

TEST_F(ResourceEndpointsTest, IntrospectionReportsAnUnrotatedRefreshTokenActive) {
  Issued t = issue({"api", "refresh_token"});
  auto body = json(introspect(t.refresh_token));
  EXPECT_TRUE(body.at("active").as_bool());
  EXPECT_EQ(str(body, "token_type"), "refresh_token");
}

}  // namespace
}  // namespace latchkey::oauth
