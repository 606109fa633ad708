// Salesforce's single-access URL and its front door (oauth/front_door.h), as `sf org open`
// uses them: a one-time, short-lived URL that signs a browser in as the token's user and lands
// on a path of this server, and never anywhere else.
#include "oauth/front_door.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "crypto/password.h"
#include "http/params.h"
#include "oauth/authorize/authorize_endpoint.h"
#include "oauth/login_throttle.h"
#include "unit/support/test_support.h"
#include "web/pages.h"

namespace latchkey::oauth {
namespace {

using testsupport::kCallback;
using testsupport::kIssuer;

class FrontDoorTest : public ::testing::Test {
 protected:
  FrontDoorTest()
      : stack_(world_, kIssuer),
        passwords_(world_.random(), {8, 1, 1}),
        throttle_(world_.clock()),
        authorize_({world_.db(),
                    world_.db(),
                    world_.db(),
                    world_.db(),
                    world_.db(),
                    stack_.issuer,
                    stack_.ids,
                    passwords_,
                    throttle_,
                    pages_,
                    world_.random(),
                    world_.clock(),
                    world_.events(),
                    kIssuer,
                    false,
                    world_.random().bytes(32),
                    {}}),
        door_(deps(key_)) {
    app_ = world_.add_app([](store::App& a) { a.scopes = {"api", "web", "refresh_token"}; });
    world_.db().save_consent({world_.user().id,
                              app_.client_id,
                              {"api", "web", "refresh_token"},
                              world_.clock().now_ms()});
    token_ = issue({"api", "web"});
  }

  FrontDoorDeps deps(const std::string& key) {
    return {stack_.opaque,   world_.db(),    world_.db(), authorize_,
            world_.random(), world_.clock(), kIssuer,     key};
  }

  std::string issue(std::vector<std::string> scopes) {
    GrantInput in(app_, world_.user(), std::move(scopes));
    in.with_id_token = false;
    return testsupport::durable(stack_.issuer.issue(in)).access_token;
  }

  static http::Request get(const std::string& path, const std::string& query) {
    http::Request r;
    r.method = "GET";
    r.path = path;
    r.query = query;
    r.target = query.empty() ? path : path + "?" + query;
    r.remote_addr = "127.0.0.1";
    return r;
  }

  http::Response single_access(const std::string& query = {}, const std::string& token = {}) {
    http::Request r = get("/services/oauth2/singleaccess", query);
    r.headers.emplace_back("authorization", "Bearer " + (token.empty() ? token_ : token));
    return door_.single_access(r);
  }
  // The frontdoor_uri of a single-access answer.
  std::string frontdoor_uri(const std::string& query = {}) {
    http::Response r = single_access(query);
    EXPECT_EQ(r.status, 200u) << r.body;
    return std::string(boost::json::parse(r.body).at("frontdoor_uri").as_string());
  }
  // Opens a front-door URL as a browser would, with `door`.
  static http::Response open(FrontDoor& door, const std::string& uri) {
    const std::string prefix = std::string(kIssuer) + "/secur/frontdoor.jsp?";
    EXPECT_EQ(uri.rfind(prefix, 0), 0u) << uri;
    return testsupport::released(
        door.enter(get("/secur/frontdoor.jsp", uri.substr(prefix.size()))));
  }
  http::Response open(const std::string& uri) { return open(door_, uri); }

  static std::string header(const http::Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }
  // The authorize request a browser with `cookie` makes next: a code for the user that
  // approved the app, without a login page, if the front door signed it in.
  http::Response authorize_with(const std::string& set_cookie) {
    http::Request r = get("/services/oauth2/authorize",
                          "response_type=code&client_id=" + http::form_encode(app_.client_id) +
                              "&redirect_uri=" + http::form_encode(kCallback) + "&state=s");
    r.headers.emplace_back("cookie", set_cookie.substr(0, set_cookie.find(';')));
    return testsupport::released(authorize_.handle(r));
  }

  testsupport::TestWorld world_;
  testsupport::IssuerStack stack_;
  crypto::PasswordHasher passwords_;
  LoginThrottle throttle_;
  web::Pages pages_;
  AuthorizeEndpoint authorize_;
  std::string key_ = std::string(32, 'k');
  FrontDoor door_;
  store::App app_;
  std::string token_;
};

TEST_F(FrontDoorTest, TheUrlSignsTheBrowserInAsTheTokensUser) {
  http::Response r = open(frontdoor_uri());
  ASSERT_EQ(r.status, 302u) << r.body;
  EXPECT_EQ(header(r, "Location"), std::string(kIssuer) + "/");
  const std::string cookie = header(r, "Set-Cookie");
  ASSERT_EQ(cookie.rfind("lk_sid=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  http::Response next = authorize_with(cookie);
  EXPECT_EQ(next.status, 302u) << next.body;
  EXPECT_EQ(header(next, "Location").rfind(std::string(kCallback) + "?code=", 0), 0u)
      << header(next, "Location");
  EXPECT_EQ(world_.events().count("login_success"), 1u);
}

TEST_F(FrontDoorTest, ItLandsOnTheRedirectPathGiven) {
  http::Response r = open(frontdoor_uri("redirect_uri=" + http::form_encode("/index.html?a=b")));
  ASSERT_EQ(r.status, 302u) << r.body;
  EXPECT_EQ(header(r, "Location"), std::string(kIssuer) + "/index.html?a=b");
}

TEST_F(FrontDoorTest, ARedirectOutsideThisServerIsRefused) {
  for (const char* bad : {"https://evil.example/", "//evil.example/", "/\\evil.example", "evil",
                          "/a b", "javascript:alert(1)"}) {
    http::Response r = single_access("redirect_uri=" + http::form_encode(bad));
    EXPECT_EQ(r.status, 400u) << bad;
    EXPECT_EQ(boost::json::parse(r.body).at("error").as_string(), "invalid_request") << bad;
  }
}

TEST_F(FrontDoorTest, TheUrlWorksOnce) {
  const std::string uri = frontdoor_uri();
  ASSERT_EQ(open(uri).status, 302u);
  http::Response again = open(uri);
  EXPECT_EQ(again.status, 401u);
  EXPECT_EQ(header(again, "Set-Cookie"), "");
  // Another node (same key, same database) refuses it too.
  FrontDoor other(deps(key_));
  EXPECT_EQ(open(other, uri).status, 401u);
}

TEST_F(FrontDoorTest, TheUrlExpiresAfterFiveMinutes) {
  const std::string late = frontdoor_uri();
  const std::string in_time = frontdoor_uri();
  world_.clock().advance_s(299);
  EXPECT_EQ(open(in_time).status, 302u);
  world_.clock().advance_s(1);
  EXPECT_EQ(open(late).status, 401u);
}

TEST_F(FrontDoorTest, AnAlteredOrForeignUrlIsRefused) {
  const std::string uri = frontdoor_uri();
  const std::string otp_value(http::parse_form(uri.substr(uri.find('?') + 1))->value("otp"));
  const auto dot = otp_value.find('.');
  std::string payload = *crypto::base64url_decode(otp_value.substr(0, dot));
  // The same MAC over another landing place.
  std::string moved = payload.substr(0, payload.rfind('\n') + 1) + "/elsewhere";
  const std::string forged = crypto::base64url_encode(moved) + otp_value.substr(dot);
  const std::string base = std::string(kIssuer) + "/secur/frontdoor.jsp?otp=";
  EXPECT_EQ(open(base + http::form_encode(forged)).status, 401u);
  EXPECT_EQ(open(base + "garbage").status, 401u);
  EXPECT_EQ(open(base).status, 401u);
  // A server with another key (another installation) does not honour it.
  FrontDoor foreign(deps(std::string(32, 'x')));
  EXPECT_EQ(open(foreign, uri).status, 401u);
  // Still good where it was made.
  EXPECT_EQ(open(uri).status, 302u);
}

TEST_F(FrontDoorTest, ADeactivatedUserIsNotSignedIn) {
  const std::string uri = frontdoor_uri();
  ASSERT_TRUE(world_.db().set_user_active(world_.user().id, false));
  EXPECT_EQ(open(uri).status, 401u);
}

TEST_F(FrontDoorTest, SingleAccessNeedsALiveTokenWithTheWebScope) {
  http::Response bad = single_access({}, "00Dnot!atoken");
  EXPECT_EQ(bad.status, 401u);
  EXPECT_EQ(bad.body,
            R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])");
  http::Response api_only = single_access({}, issue({"api"}));
  EXPECT_EQ(api_only.status, 403u) << api_only.body;
  EXPECT_EQ(header(api_only, "WWW-Authenticate"),
            "Bearer error=\"insufficient_scope\", scope=\"web\"");
}

}  // namespace
}  // namespace latchkey::oauth
