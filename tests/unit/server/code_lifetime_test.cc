// docs/behaviour.md §5.1: an authorization code lives 10 minutes. Driven through the whole
// application (login form, consent form, redirect, token endpoint) on a fake clock, so the test
// breaks if the lifetime the authorize endpoint gives its codes changes, not only if expiry is
// checked.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>
#include <string>

#include "app/application.h"
#include "crypto/password.h"
#include "http/params.h"
#include "test_support.h"

namespace latchkey::app {
namespace {

using testsupport::TestWorld;

class CodeLifetime : public ::testing::Test {
 protected:
  CodeLifetime() {
    crypto::PasswordHasher hasher(world_.random(), crypto::Argon2Params{64, 1, 1});
    store::User u = world_.user();
    u.id = "005000000000002AAA";
    u.username = "carol@example.test";
    u.password_hash = hasher.hash("carol-Password-1");
    EXPECT_TRUE(world_.db().create_user(u));
    app_ = world_.add_app([](store::App& a) { a.scopes = {"api"}; });
    AppOptions options;
    options.issuer = testsupport::kIssuer;
    application_ =
        std::make_unique<Application>(world_.db().stores(), world_.random(), world_.clock(),
                                      testsupport::test_sealer(), std::move(options));
  }

  // One browser: keeps the cookies the server sets, as a user agent would.
  http::Response send(http::Request r) {
    if (!cookies_.empty()) r.headers.emplace_back("cookie", cookies_);
    r.remote_addr = "127.0.0.1";
    http::Response resp = testsupport::released(application_->handle(r));
    for (const auto& [name, value] : resp.headers) {
      if (name != "Set-Cookie") continue;
      std::string pair = value.substr(0, value.find(';'));
      cookies_ += (cookies_.empty() ? "" : "; ") + pair;
    }
    return resp;
  }

  static std::string header(const http::Response& r, std::string_view name) {
    for (const auto& [n, v] : r.headers) {
      if (n == name) return v;
    }
    return {};
  }

  static std::string csrf_of(const std::string& page) {
    std::smatch m;
    EXPECT_TRUE(std::regex_search(page, m, std::regex(R"re(name="csrf" value="([^"]+)")re")));
    return m.size() > 1 ? m[1].str() : "";
  }

  // Signs in, allows the app and returns the code the redirect carries.
  std::string authorize() {
    const std::string query = "response_type=code&client_id=" + http::form_encode(app_.client_id) +
                              "&redirect_uri=" + http::form_encode(testsupport::kCallback) +
                              "&state=s1";
    http::Request get;
    get.method = "GET";
    get.path = "/services/oauth2/authorize";
    get.query = query;
    get.target = get.path + "?" + query;
    http::Response page = send(get);
    EXPECT_EQ(page.status, 200u) << page.body;

    http::Request post;
    post.method = "POST";
    post.path = get.path;
    post.target = get.path;
    post.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    std::string csrf = csrf_of(page.body);
    if (page.body.find("name=\"password\"") != std::string::npos) {
      post.body = query + "&csrf=" + http::form_encode(csrf) +
                  "&username=carol%40example.test&password=carol-Password-1";
      page = send(post);
      csrf = csrf_of(page.body);
    }
    if (page.status == 200) {  // the consent page
      post.body = query + "&csrf=" + http::form_encode(csrf) + "&decision=allow";
      page = send(post);
    }
    EXPECT_EQ(page.status, 302u) << page.body;
    std::smatch m;
    const std::string location = header(page, "Location");
    EXPECT_TRUE(std::regex_search(location, m, std::regex("[?&]code=([^&]+)"))) << location;
    return m.size() > 1 ? http::form_decode(m[1].str()).value_or("") : "";
  }

  http::Response exchange(const std::string& code) {
    http::Request r;
    r.method = "POST";
    r.path = "/services/oauth2/token";
    r.target = r.path;
    r.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    r.body = "grant_type=authorization_code&code=" + http::form_encode(code) +
             "&redirect_uri=" + http::form_encode(testsupport::kCallback) +
             "&client_id=" + http::form_encode(app_.client_id) +
             "&client_secret=" + http::form_encode(TestWorld::secret());
    r.remote_addr = "127.0.0.1";
    return testsupport::released(application_->handle(r));
  }

  TestWorld world_;
  store::App app_;
  std::unique_ptr<Application> application_;
  std::string cookies_;
};

TEST_F(CodeLifetime, ACodeIsRedeemableJustBeforeTenMinutes) {
  const std::string code = authorize();
  ASSERT_FALSE(code.empty());
  world_.clock().advance_s(10 * 60 - 1);
  http::Response r = exchange(code);
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_TRUE(boost::json::parse(r.body).as_object().contains("access_token")) << r.body;
}

TEST_F(CodeLifetime, ACodeIsExpiredJustAfterTenMinutes) {
  const std::string code = authorize();
  ASSERT_FALSE(code.empty());
  world_.clock().advance_s(10 * 60 + 1);
  http::Response r = exchange(code);
  EXPECT_EQ(r.status, 400u) << r.body;
  auto body = boost::json::parse(r.body).as_object();
  EXPECT_EQ(body["error"], "invalid_grant");
  EXPECT_EQ(body["error_description"], "expired authorization code");
}

}  // namespace
}  // namespace latchkey::app
