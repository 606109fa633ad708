// What a live token may see: introspection of a rotated refresh token (RFC 7662 §2.2), and the
// scopes the protected resources require (RFC 6750 §3.1 insufficient_scope; OIDC Core §5.3,
// §5.4 for userinfo; Salesforce's scope table for the identity URL and /services/data).
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
#include "unit/support/test_support.h"

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
        clients_(world_.db(), world_.db(), world_.clock(), kIssuer),
        introspect_(stack_.opaque, world_.db(), clients_, kIssuer),
        users_(stack_.opaque, world_.db(), kIssuer),
        data_(stack_.opaque, world_.db(), world_.db(), kIssuer) {
    app_ = world_.add_app([](store::App& a) {
      a.scopes = {"api", "refresh_token", "openid", "profile", "email",
                  "id",  "full",          "web",    "phone",   "visualforce"};
    });
  }

  // An access token (and a refresh token) granted `scopes`, as a code exchange would mint them.
  Issued issue(std::vector<std::string> scopes, const store::App& app) {
    GrantInput in(app, world_.user(), std::move(scopes));
    in.issue_refresh = true;
    in.with_id_token = false;
    return testsupport::durable(stack_.issuer.issue(in));
  }
  Issued issue(std::vector<std::string> scopes) { return issue(std::move(scopes), app_); }

  http::Response introspect(const std::string& token) {
    http::Request req =
        post_request({{"authorization", basic_header(app_.client_id, TestWorld::secret())},
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
    return data_.resource(get("/services/data/v62.0/", token));
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
  store::App rotating =
      world_.add_app([](store::App& a) { a.refresh_policy = store::RefreshPolicy::rotate; });
  app_ = rotating;
  Issued first = issue({"api", "refresh_token"}, rotating);
  ASSERT_TRUE(json(introspect(first.refresh_token)).at("active").as_bool());

  RefreshTokenGrant grant(world_.db(), world_.db(), world_.db(), stack_.issuer, world_.clock());
  http::Request req = post_request();
  auto refreshed = testsupport::answer_of(grant.handle(TokenRequest{
      req, params({{"grant_type", "refresh_token"}, {"refresh_token", first.refresh_token}}),
      testsupport::client_auth(rotating, AuthMethod::client_secret_post, TestWorld::secret())}));
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

// ---- userinfo

TEST_F(ResourceEndpointsTest, UserinfoRefusesATokenWithoutAnIdentityScopeOrApi) {
  for (std::vector<std::string> scopes : std::vector<std::vector<std::string>>{
           {"refresh_token"}, {"web", "refresh_token"}, {"visualforce"}}) {
    expect_insufficient_scope(userinfo(issue(scopes).access_token), "openid");
  }
}

// docs/behaviour.md §8: the Salesforce CLI's web login gets `refresh_token api web` and reads
// user_id and organization_id from userinfo; `id` and its synonyms open it as they open the
// identity URL. Only the identifiers come without the scope of the claims.
TEST_F(ResourceEndpointsTest, UserinfoServesTheApiAndIdentityScopesTheIdentifiers) {
  for (std::vector<std::string> scopes :
       std::vector<std::vector<std::string>>{{"refresh_token", "api", "web"}, {"id"}, {"phone"}}) {
    http::Response r = userinfo(issue(scopes).access_token);
    ASSERT_EQ(r.status, 200u) << r.body;
    auto o = json(r);
    EXPECT_EQ(str(o, "user_id"), world_.user().id);
    EXPECT_EQ(str(o, "organization_id"), world_.user().org_id);
    EXPECT_FALSE(o.contains("email")) << r.body;
    EXPECT_FALSE(o.contains("preferred_username")) << r.body;
  }
}

TEST_F(ResourceEndpointsTest, UserinfoWithOpenidAloneNamesTheUserButNoProfileOrEmail) {
  http::Response r = userinfo(issue({"openid"}).access_token);
  ASSERT_EQ(r.status, 200u) << r.body;
  auto o = json(r);
  EXPECT_EQ(str(o, "sub"), token::identity_url(kIssuer, world_.user()));
  EXPECT_EQ(str(o, "user_id"), world_.user().id);
  EXPECT_EQ(str(o, "organization_id"), world_.user().org_id);
  for (const char* claim : {"email", "email_verified", "name", "preferred_username", "nickname",
                            "given_name", "family_name", "locale", "zoneinfo"}) {
    EXPECT_FALSE(o.contains(claim)) << claim << " in " << r.body;
  }
}

TEST_F(ResourceEndpointsTest, UserinfoReturnsTheClaimsOfEachGrantedScope) {
  auto with_email = json(userinfo(issue({"openid", "email"}).access_token));
  EXPECT_EQ(str(with_email, "email"), world_.user().email);
  EXPECT_TRUE(with_email.contains("email_verified"));
  EXPECT_FALSE(with_email.contains("name"));
  EXPECT_FALSE(with_email.contains("preferred_username"));

  auto with_profile = json(userinfo(issue({"openid", "profile"}).access_token));
  EXPECT_EQ(str(with_profile, "preferred_username"), world_.user().username);
  EXPECT_FALSE(str(with_profile, "name").empty());
  EXPECT_FALSE(with_profile.contains("email"));

  // Salesforce's `full` encompasses every other scope.
  auto full = json(userinfo(issue({"full"}).access_token));
  EXPECT_EQ(str(full, "email"), world_.user().email);
  EXPECT_EQ(str(full, "preferred_username"), world_.user().username);
  EXPECT_EQ(str(full, "user_id"), world_.user().id);
}

TEST_F(ResourceEndpointsTest, ABadTokenIsStill401BeforeAnyScopeCheck) {
  Issued t = issue({"api"});
  ASSERT_EQ(world_.db().revoke_token(token::ref_of(t.access_token)), 1);
  for (const http::Response& r :
       {userinfo(t.access_token), identity(t.access_token), data(t.access_token)}) {
    EXPECT_EQ(r.status, 401u) << r.body;
    EXPECT_EQ(r.header("www-authenticate").value_or(""), "Bearer error=\"invalid_token\"");
  }
}

// A deactivated user's live token is refused at every resource, /services/data included
// (docs/behaviour.md §8, "Scopes at the resources"), as Salesforce ends a deactivated user's
// sessions.
TEST_F(ResourceEndpointsTest, ADeactivatedUsersTokenIsRefusedAtEveryResource) {
  Issued t = issue({"api", "id", "openid"});
  ASSERT_EQ(data(t.access_token).status, 200u);
  ASSERT_TRUE(world_.db().set_user_active(world_.user().id, false));
  for (const http::Response& r :
       {userinfo(t.access_token), identity(t.access_token), data(t.access_token)}) {
    EXPECT_EQ(r.status, 401u) << r.body;
    EXPECT_EQ(r.header("www-authenticate").value_or(""), "Bearer error=\"invalid_token\"");
  }
}

// ---- identity URL and /services/data

TEST_F(ResourceEndpointsTest, IdentityUrlNeedsIdOrASynonymOpenidOrFull) {
  expect_insufficient_scope(identity(issue({"api", "refresh_token"}).access_token), "id");
  for (const char* scope : {"id", "profile", "email", "openid", "full"}) {
    http::Response r = identity(issue({"api", scope}).access_token);
    EXPECT_EQ(r.status, 200u) << scope << ": " << r.body;
    EXPECT_EQ(str(json(r), "user_id"), world_.user().id) << scope;
  }
}

TEST_F(ResourceEndpointsTest, DataResourcesNeedApiOrFull) {
  for (std::vector<std::string> scopes : std::vector<std::vector<std::string>>{
           {"openid"}, {"openid", "profile", "email"}, {"id", "refresh_token"}}) {
    expect_insufficient_scope(data(issue(scopes).access_token), "api");
  }
  EXPECT_EQ(data(issue({"api"}).access_token).status, 200u);
  EXPECT_EQ(data(issue({"full"}).access_token).status, 200u);
}

// Salesforce's REST error bodies, as its clients parse them (docs/behaviour.md §5.4).
TEST_F(ResourceEndpointsTest, RefusalsAtTheResourcesHaveSalesforcesBodies) {
  Issued t = issue({"api", "id"});
  const store::User& u = world_.user();
  http::Response other =
      users_.identity(get("/id/" + u.org_id + "/005000000000999", t.access_token));
  EXPECT_EQ(other.status, 403u);
  EXPECT_EQ(other.body, R"([{"message":"Bad_Id","errorCode":"BAD_ID"}])");
  EXPECT_EQ(other.header("cache-control").value_or(""), "no-store");

  http::Response unknown = data_.resource(get("/services/data/v10.0/", t.access_token));
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(unknown.body,
            R"([{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}])");

  ASSERT_EQ(world_.db().revoke_token(token::ref_of(t.access_token)), 1);
  for (const http::Response& r :
       {userinfo(t.access_token), identity(t.access_token), data(t.access_token)}) {
    EXPECT_EQ(r.status, 401u);
    EXPECT_EQ(r.body,
              R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])");
  }
}

}  // namespace
}  // namespace latchkey::oauth
