// The admin console (app/admin_console.h): its session cookie, its CSRF and Origin checks, the
// pages' escaping and headers, the client secret shown once, and the audit log naming the admin.
#include "app/admin_console.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "app/admin_openapi.h"
#include "core/clock.h"
#include "crypto/crypto.h"
#include "store/open.h"
#include "unit/support/test_support.h"

namespace latchkey::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class Recorded final : public EventSink {
 public:
  void emit(const Event& e) override {
    if (e.type == EventType::admin_change) changes.emplace_back(std::string(e.admin), e.detail);
    if (e.type == EventType::admin_sign_in || e.type == EventType::admin_sign_in_failure) {
      sign_ins.push_back(std::string(names_of(e.type).audit) + " " + std::string(e.admin) + " " +
                         std::string(e.detail) + " " + std::string(e.remote_addr));
    }
  }
  std::vector<std::pair<std::string, std::string>> changes;  // admin, operation
  std::vector<std::string> sign_ins;                         // event admin detail address
};

std::string header(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

// The value of the first Set-Cookie of `name`.
std::string set_cookie(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == "Set-Cookie" && v.starts_with(std::string(name) + "=")) {
      return v.substr(name.size() + 1, v.find(';') - name.size() - 1);
    }
  }
  return "";
}

std::string csrf_of(const std::string& html) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(html, m, std::regex("name=\"csrf\" value=\"([^\"]*)\"")));
  return m.size() > 1 ? m[1].str() : "";
}

class AdminConsoleTest : public ::testing::Test {
 protected:
  AdminConsoleTest() : db_(store::open_database("sqlite::memory:")) {
    testsupport::seed_signing_keys(*db_, clock_.now_ms());
    AdminApiOptions o;
    o.events = &events_;
    o.openapi = admin_openapi_document();
    api_ = std::make_unique<AdminApi>(*db_, random_, clock_, kek_, std::move(o));
    console_ = std::make_unique<AdminConsole>(*api_, *db_, random_, clock_, std::string(32, 'k'));
    token_ = std::string(
        AdminTokens(*db_, random_, clock_).create("ops-alice").value()["token"].as_string());
    cookie_ = sign_in(token_);
  }

  http::Response call(std::string method, std::string target, std::string body = "",
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request r = testsupport::request_to(std::move(method), target, std::move(body));
    r.headers = std::move(headers);
    r.headers.emplace_back("host", "127.0.0.1:9000");
    return console_->handle(r);
  }
  http::Response get(const std::string& target, const std::string& cookie) {
    return call("GET", target, "", {{"cookie", "lk_console=" + cookie}});
  }
  http::Response post(const std::string& target, const std::string& cookie, std::string form,
                      std::vector<std::pair<std::string, std::string>> extra = {}) {
    extra.emplace_back("cookie", "lk_console=" + cookie);
    return call("POST", target, std::move(form), std::move(extra));
  }
  // The form's CSRF token of the page at `target` for the session `cookie`.
  std::string csrf(const std::string& cookie, const std::string& target = "/admin/console/apps") {
    return csrf_of(get(target, cookie).body);
  }
  // Signs in through the form; the session cookie's value, or "" when refused.
  std::string sign_in(const std::string& token) {
    auto form = call("GET", "/admin/console/login");
    const std::string pre = set_cookie(form, "lk_console_pre");
    auto out =
        call("POST", "/admin/console/login",
             "csrf=" + http::form_encode(csrf_of(form.body)) + "&token=" + http::form_encode(token),
             {{"cookie", "lk_console_pre=" + pre}});
    return out.status == 303 ? set_cookie(out, "lk_console") : "";
  }
  // Creates an app through the console; the answer page.
  http::Response create_app(const std::string& name) {
    return post("/admin/console/apps", cookie_,
                "csrf=" + http::form_encode(csrf(cookie_)) + "&name=" + http::form_encode(name) +
                    "&callbacks=https%3A%2F%2Fapp.example%2Fcb&scopes=api");
  }

  FakeClock clock_;
  crypto::OsRandom random_;
  std::unique_ptr<store::Database> db_;
  KekSource kek_{testsupport::test_sealer()};
  Recorded events_;
  std::unique_ptr<AdminApi> api_;
  std::unique_ptr<AdminConsole> console_;
  std::string token_;
  std::string cookie_;
};

TEST_F(AdminConsoleTest, OwnsOnlyItsPrefix) {
  EXPECT_TRUE(AdminConsole::owns("/admin/console"));
  EXPECT_TRUE(AdminConsole::owns("/admin/console/apps"));
  EXPECT_FALSE(AdminConsole::owns("/admin/consoles"));
  EXPECT_FALSE(AdminConsole::owns("/admin/v1/apps"));
}

TEST_F(AdminConsoleTest, SignInSetsAStrictHttpOnlyCookieScopedToTheConsole) {
  auto form = call("GET", "/admin/console/login");
  auto out = call("POST", "/admin/console/login",
                  "csrf=" + http::form_encode(csrf_of(form.body)) + "&token=" + token_,
                  {{"cookie", "lk_console_pre=" + set_cookie(form, "lk_console_pre")}});
  ASSERT_EQ(out.status, 303u);
  EXPECT_EQ(header(out, "Location"), "/admin/console/apps");
  std::string set;
  for (const auto& [k, v] : out.headers) {
    if (k == "Set-Cookie" && v.starts_with("lk_console=")) set = v;
  }
  EXPECT_THAT(set, HasSubstr("; Path=/admin/console"));
  EXPECT_THAT(set, HasSubstr("; HttpOnly"));
  EXPECT_THAT(set, HasSubstr("; SameSite=Strict"));
  EXPECT_THAT(set, HasSubstr("; Max-Age=28800"));
  // Neither the token nor its name is in the cookie.
  auto payload = crypto::base64url_decode(cookie_.substr(0, cookie_.find('.')));
  ASSERT_TRUE(payload);
  EXPECT_THAT(*payload, Not(HasSubstr("ops-alice")));
  EXPECT_THAT(cookie_, Not(HasSubstr(token_)));
}

TEST_F(AdminConsoleTest, WrongTokenShowsTheFormAgainWithoutASession) {
  auto form = call("GET", "/admin/console/login");
  auto out =
      call("POST", "/admin/console/login",
           "csrf=" + http::form_encode(csrf_of(form.body)) + "&token=lka_" + std::string(43, 'x'),
           {{"cookie", "lk_console_pre=" + set_cookie(form, "lk_console_pre")}});
  EXPECT_EQ(out.status, 400u);
  EXPECT_THAT(out.body, HasSubstr("That admin token is not valid."));
  EXPECT_THAT(out.body, HasSubstr("name=\"token\""));
  EXPECT_EQ(set_cookie(out, "lk_console"), "");
}

// Each sign-in is audited under the token's name, and each refused token as a failure naming no
// one, from the address it came from.
TEST_F(AdminConsoleTest, SignInsAndRefusedTokensAreAudited) {
  EXPECT_EQ(events_.sign_ins,
            (std::vector<std::string>{"admin_sign_in ops-alice console 127.0.0.1"}));
  EXPECT_EQ(sign_in("lka_" + std::string(43, 'x')), "");
  EXPECT_EQ(sign_in(""), "");
  EXPECT_EQ(events_.sign_ins,
            (std::vector<std::string>{"admin_sign_in ops-alice console 127.0.0.1",
                                      "admin_sign_in_failure  invalid_token 127.0.0.1",
                                      "admin_sign_in_failure  invalid_token 127.0.0.1"}));
}

TEST_F(AdminConsoleTest, SignInWithoutItsFormsCsrfIsRefused) {
  auto form = call("GET", "/admin/console/login");
  const std::string pre = set_cookie(form, "lk_console_pre");
  EXPECT_EQ(
      call("POST", "/admin/console/login", "token=" + token_, {{"cookie", "lk_console_pre=" + pre}})
          .status,
      403u);
  // Another browser's form (its pre-session cookie is not this one).
  auto other = call("GET", "/admin/console/login");
  EXPECT_EQ(call("POST", "/admin/console/login",
                 "csrf=" + http::form_encode(csrf_of(other.body)) + "&token=" + token_,
                 {{"cookie", "lk_console_pre=" + pre}})
                .status,
            403u);
}

TEST_F(AdminConsoleTest, ValidSessionOpensPagesAndNoSessionRedirectsToSignIn) {
  ASSERT_FALSE(cookie_.empty());
  auto page = get("/admin/console/apps", cookie_);
  EXPECT_EQ(page.status, 200u);
  EXPECT_THAT(page.body, HasSubstr("ops-alice"));
  auto none = call("GET", "/admin/console/apps");
  EXPECT_EQ(none.status, 303u);
  EXPECT_EQ(header(none, "Location"), "/admin/console/login");
  EXPECT_EQ(call("POST", "/admin/console/keys/rotate", "csrf=x").status, 403u);
}

TEST_F(AdminConsoleTest, TamperedCookieIsNoSession) {
  std::string tampered = cookie_;
  tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(get("/admin/console/apps", tampered).status, 303u);
  // A payload of its own with another MAC.
  const std::string forged =
      crypto::base64url_encode("v1\n" + crypto::sha256_hex(token_) + "\n0\n99999999999999") +
      cookie_.substr(cookie_.find('.'));
  EXPECT_EQ(get("/admin/console/apps", forged).status, 303u);
}

TEST_F(AdminConsoleTest, SessionExpiresEightHoursAfterSignIn) {
  clock_.advance_s(8 * 3600 - 1);
  EXPECT_EQ(get("/admin/console/apps", cookie_).status, 200u);
  clock_.advance_s(1);
  EXPECT_EQ(get("/admin/console/apps", cookie_).status, 303u);
}

TEST_F(AdminConsoleTest, RevokingTheTokenEndsItsSessions) {
  const std::string form = csrf(cookie_, "/admin/console/keys");
  ASSERT_TRUE(AdminTokens(*db_, random_, clock_).revoke("ops-alice").ok());
  EXPECT_EQ(get("/admin/console/apps", cookie_).status, 303u);
  EXPECT_EQ(post("/admin/console/keys/rotate", cookie_, "csrf=" + form).status, 403u);
}

TEST_F(AdminConsoleTest, PostWithoutOrWithAWrongOrAnotherSessionsCsrfIsRefused) {
  const std::string other = sign_in(token_);
  ASSERT_FALSE(other.empty());
  ASSERT_NE(other, cookie_);
  const auto keys_before = db_->list_keys().size();
  EXPECT_EQ(post("/admin/console/keys/rotate", cookie_, "").status, 403u);
  EXPECT_EQ(post("/admin/console/keys/rotate", cookie_, "csrf=" + std::string(43, 'A')).status,
            403u);
  EXPECT_EQ(post("/admin/console/keys/rotate", cookie_, "csrf=" + csrf(other)).status, 403u);
  EXPECT_EQ(db_->list_keys().size(), keys_before);
  auto ok = post("/admin/console/keys/rotate", cookie_, "csrf=" + csrf(cookie_));
  EXPECT_EQ(ok.status, 303u);
  EXPECT_EQ(header(ok, "Location"), "/admin/console/keys?done=key_rotated");
  EXPECT_GT(db_->list_keys().size(), keys_before);
}

TEST_F(AdminConsoleTest, PostFromAnotherOriginIsRefused) {
  const std::string form = "csrf=" + csrf(cookie_);
  EXPECT_EQ(
      post("/admin/console/keys/rotate", cookie_, form, {{"origin", "http://evil.example"}}).status,
      403u);
  EXPECT_EQ(post("/admin/console/keys/rotate", cookie_, form, {{"origin", "null"}}).status, 403u);
  EXPECT_EQ(post("/admin/console/keys/rotate", cookie_, form, {{"origin", "http://127.0.0.1:9000"}})
                .status,
            303u);
}

TEST_F(AdminConsoleTest, PagesCarryTheSecurityHeadersAndNoStore) {
  for (const std::string_view target :
       {"/admin/console/login", "/admin/console/apps", "/admin/console/users",
        "/admin/console/keys", "/admin/console/audit"}) {
    auto r = get(std::string(target), cookie_);
    EXPECT_EQ(r.status, 200u) << target;
    EXPECT_EQ(header(r, "X-Frame-Options"), "DENY") << target;
    EXPECT_THAT(header(r, "Content-Security-Policy"), HasSubstr("script-src 'none'")) << target;
    EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff") << target;
    // same-origin, so that the browser's form POSTs carry the console's Origin (not "null").
    EXPECT_EQ(header(r, "Referrer-Policy"), "same-origin") << target;
    EXPECT_EQ(header(r, "Cache-Control"), "no-store") << target;
    EXPECT_THAT(r.body, Not(HasSubstr("<script"))) << target;
  }
}

TEST_F(AdminConsoleTest, AppNameIsEscapedOnEveryPageThatShowsIt) {
  auto made = create_app("<script>alert(1)</script>");
  ASSERT_EQ(made.status, 200u) << made.body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(made.body, m, std::regex("id=\"client-id\">([^<]*)<")));
  for (const std::string& target :
       {std::string("/admin/console/apps"), "/admin/console/apps/" + m[1].str()}) {
    auto page = get(target, cookie_);
    EXPECT_EQ(page.status, 200u) << target;
    EXPECT_THAT(page.body, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;")) << target;
    EXPECT_THAT(page.body, Not(HasSubstr("<script"))) << target;
  }
}

TEST_F(AdminConsoleTest, ClientSecretIsShownOnceAndIsTheAppsSecret) {
  auto made = create_app("Billing");
  ASSERT_EQ(made.status, 200u) << made.body;
  EXPECT_EQ(header(made, "Cache-Control"), "no-store");
  std::smatch id, secret;
  ASSERT_TRUE(std::regex_search(made.body, id, std::regex("id=\"client-id\">([^<]*)<")));
  ASSERT_TRUE(std::regex_search(made.body, secret, std::regex("id=\"client-secret\">([^<]*)<")));
  EXPECT_THAT(made.body, HasSubstr("shown only this once"));
  auto app = db_->find_app(id[1].str());
  ASSERT_TRUE(app);
  EXPECT_EQ(app->secret_hash, crypto::sha256_hex(secret[1].str()));
  for (const std::string& target :
       {std::string("/admin/console/apps"), "/admin/console/apps/" + id[1].str()}) {
    EXPECT_THAT(get(target, cookie_).body, Not(HasSubstr(secret[1].str()))) << target;
  }
  // Rotating shows the new one, once; the old one is no longer the app's.
  const std::string page = "/admin/console/apps/" + id[1].str();
  auto rotated = post(page + "/secret", cookie_, "csrf=" + csrf(cookie_, page));
  std::smatch fresh;
  ASSERT_TRUE(std::regex_search(rotated.body, fresh, std::regex("id=\"client-secret\">([^<]*)<")));
  EXPECT_NE(fresh[1].str(), secret[1].str());
  EXPECT_EQ(db_->find_app(id[1].str())->secret_hash, crypto::sha256_hex(fresh[1].str()));
  EXPECT_THAT(get(page, cookie_).body, Not(HasSubstr(fresh[1].str())));
}

TEST_F(AdminConsoleTest, AFailedCreationShowsTheFormAgainWithTheError) {
  auto out = post(
      "/admin/console/apps", cookie_,
      "csrf=" + http::form_encode(csrf(cookie_)) + "&name=Bad&callbacks=javascript%3Aalert(1)");
  EXPECT_EQ(out.status, 400u);
  EXPECT_THAT(out.body, HasSubstr("id=\"console-error\""));
  EXPECT_THAT(out.body, HasSubstr("value=\"Bad\""));
  EXPECT_TRUE(db_->list_apps().empty());
}

TEST_F(AdminConsoleTest, ChangesAreRecordedUnderTheTokensName) {
  ASSERT_EQ(create_app("Audited").status, 200u);
  auto user = post("/admin/console/users", cookie_,
                   "csrf=" + http::form_encode(csrf(cookie_)) +
                       "&username=dora%40localhost&password=a+long+enough+password");
  ASSERT_EQ(user.status, 303u) << user.body;
  EXPECT_EQ(header(user, "Location"), "/admin/console/users/dora%40localhost?done=user_created");
  ASSERT_EQ(events_.changes.size(), 2u);
  EXPECT_EQ(events_.changes[0], (std::pair<std::string, std::string>{"ops-alice", "createApp"}));
  EXPECT_EQ(events_.changes[1].first, "ops-alice");
}

TEST_F(AdminConsoleTest, DeactivateAndRevokeTokensShowWhatHappened) {
  ASSERT_EQ(post("/admin/console/users", cookie_,
                 "csrf=" + http::form_encode(csrf(cookie_)) +
                     "&username=erin%40localhost&password=a+long+enough+password")
                .status,
            303u);
  const std::string page = "/admin/console/users/erin%40localhost";
  auto off = post(page + "/active", cookie_, "csrf=" + csrf(cookie_, page) + "&active=false");
  ASSERT_EQ(off.status, 303u);
  EXPECT_FALSE(db_->find_user_by_username("erin@localhost")->active);
  auto shown = get(header(off, "Location"), cookie_);
  EXPECT_THAT(shown.body, HasSubstr("User deactivated"));
  EXPECT_THAT(shown.body, HasSubstr(">Activate<"));
  auto revoked = post(page + "/revoke-tokens", cookie_, "csrf=" + csrf(cookie_, page));
  ASSERT_EQ(revoked.status, 303u);
  EXPECT_THAT(get(header(revoked, "Location"), cookie_).body, HasSubstr("Revoked 0 tokens."));
}

TEST_F(AdminConsoleTest, StatusMessagesComeOnlyFromAFixedSet) {
  auto page = get("/admin/console/apps?done=%3Cb%3Ehello", cookie_);
  EXPECT_EQ(page.status, 200u);
  EXPECT_THAT(page.body, Not(HasSubstr("hello")));
  EXPECT_THAT(page.body, Not(HasSubstr("console-notice")));
}

TEST_F(AdminConsoleTest, SignOutClearsTheCookie) {
  auto out = post("/admin/console/logout", cookie_, "csrf=" + csrf(cookie_));
  EXPECT_EQ(out.status, 303u);
  EXPECT_EQ(header(out, "Location"), "/admin/console/login");
  std::string set;
  for (const auto& [k, v] : out.headers) {
    if (k == "Set-Cookie") set = v;
  }
  EXPECT_THAT(set, HasSubstr("lk_console=; Path=/admin/console; Max-Age=0"));
}

TEST_F(AdminConsoleTest, PreauthorizationsAreAddedAndRemovedAndDeletionNeedsConfirming) {
  auto made = create_app("Pre");
  std::smatch id;
  ASSERT_TRUE(std::regex_search(made.body, id, std::regex("id=\"client-id\">([^<]*)<")));
  const std::string page = "/admin/console/apps/" + id[1].str();
  auto added = post(page + "/preauthorizations", cookie_,
                    "csrf=" + csrf(cookie_, page) + "&kind=profile&name=Sales+%3Ci%3E");
  ASSERT_EQ(added.status, 303u) << added.body;
  EXPECT_EQ(header(added, "Location"), page + "?done=preauthorized");
  ASSERT_EQ(db_->preauthorizations(id[1].str()).size(), 1u);
  auto shown = get(page + "?done=preauthorized", cookie_);
  EXPECT_THAT(shown.body, HasSubstr("Pre-authorization added."));
  EXPECT_THAT(shown.body, HasSubstr("<td>Sales &lt;i&gt;</td>"));
  auto removed = post(page + "/preauthorizations/remove", cookie_,
                      "csrf=" + csrf(cookie_, page) + "&kind=profile&name=Sales+%3Ci%3E");
  ASSERT_EQ(removed.status, 303u) << removed.body;
  EXPECT_TRUE(db_->preauthorizations(id[1].str()).empty());
  auto bad = post(page + "/preauthorizations", cookie_,
                  "csrf=" + csrf(cookie_, page) + "&kind=group&name=x");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_THAT(bad.body, HasSubstr("kind must be profile or permission_set"));

  auto unconfirmed = post(page + "/delete", cookie_, "csrf=" + csrf(cookie_, page));
  EXPECT_EQ(unconfirmed.status, 400u);
  EXPECT_TRUE(db_->find_app(id[1].str()));
  auto deleted = post(page + "/delete", cookie_, "csrf=" + csrf(cookie_, page) + "&confirm=yes");
  EXPECT_EQ(deleted.status, 303u);
  EXPECT_EQ(header(deleted, "Location"), "/admin/console/apps?done=deleted");
  EXPECT_FALSE(db_->find_app(id[1].str()));
  EXPECT_EQ(get(page, cookie_).status, 404u);
}

}  // namespace
}  // namespace latchkey::app
