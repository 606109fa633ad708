// The browser steps of the authorize endpoint, driven through AuthorizeEndpoint::handle as a
// browser would: the login step under guessing (SECURITY.md: failed logins are slowed down,
// never locked out), the CSRF tokens of the login and consent forms (RFC 9700 §4.7), the
// cookies, and prompt=login / max_age at every step (OIDC Core §3.1.2.1).
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "app/audit_log.h"
#include "app/metrics.h"
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

// The cookies one browser holds, by name, as it got them from Set-Cookie.
struct Jar {
  std::map<std::string, std::string> cookies;

  std::string header() const {
    std::string out;
    for (const auto& [name, value] : cookies) out += (out.empty() ? "" : "; ") + name + "=" + value;
    return out;
  }
  void store(const http::Response& resp) {
    for (const auto& [name, value] : resp.headers) {
      if (name != "Set-Cookie") continue;
      const std::string pair = value.substr(0, value.find(';'));
      const auto eq = pair.find('=');
      cookies[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
  }
};

class AuthorizeLoginTest : public ::testing::Test {
 protected:
  AuthorizeLoginTest()
      : stack_(world_, kIssuer),
        // The smallest Argon2id cost: these tests are about counting, not hashing.
        passwords_(world_.random(), {8, 1, 1}),
        throttle_(world_.clock()),
        events_(fan_out()),
        endpoint_(deps(kIssuer, true)) {
    app_ = world_.add_app();
    add_user("bob@localhost", "005000000000002AAA");
    add_user("carol@localhost", "005000000000003AAA");
  }

  AuthorizeDeps deps(const std::string& issuer, bool secure_cookies) {
    return {world_.db(), world_.db(),   world_.db(),     world_.db(),
            world_.db(), stack_.issuer, stack_.ids,      passwords_,
            throttle_,   pages_,        world_.random(), world_.clock(),
            events_,     issuer,        secure_cookies,  world_.random().bytes(32),
            {}};
  }

  app::FanOut fan_out() {
    app::FanOut f;
    f.add(&world_.events());
    f.add(&metrics_);
    return f;
  }

  void add_user(const std::string& username, const std::string& id) {
    store::User u;
    u.id = id;
    u.org_id = world_.org().id;
    u.username = username;
    u.email = username;
    u.first_name = "Test";
    u.last_name = "User";
    u.password_hash = passwords_.hash(password_of(username));
    u.profile = "Standard User";
    u.created_ms = world_.clock().now_ms();
    ASSERT_TRUE(world_.db().create_user(u));
  }
  static std::string password_of(const std::string& username) { return "pw of " + username; }

  // The parameters of an authorization request for the test app, form-encoded.
  std::string query(const std::string& extra = "") const {
    return "response_type=code&client_id=" + http::form_encode(app_.client_id) +
           "&redirect_uri=" + http::form_encode(kCallback) + "&state=st" + extra;
  }

  // One request as a browser holding `jar` sends it, from `addr`; the jar keeps what is set.
  http::Response send(Jar& jar, const std::string& method, const std::string& params,
                      const std::string& addr = "192.0.2.200",
                      AuthorizeEndpoint* endpoint = nullptr) {
    http::Request r;
    r.method = method;
    r.path = "/services/oauth2/authorize";
    r.target = r.path;
    if (method == "GET") {
      r.query = params;
      r.target += "?" + params;
    } else {
      r.body = params;
    }
    r.remote_addr = addr;
    if (!jar.cookies.empty()) r.headers.emplace_back("cookie", jar.header());
    for (const auto& h : extra_headers_) r.headers.push_back(h);
    if (!endpoint) endpoint = target_ ? target_ : &endpoint_;
    auto resp = testsupport::released(endpoint->handle(r));
    jar.store(resp);
    return resp;
  }

  // The value of the csrf field of the page's form.
  static std::string csrf_of(const http::Response& page) {
    std::smatch m;
    static const std::regex re(R"re(name="csrf" value="([^"]*)")re");
    EXPECT_TRUE(std::regex_search(page.body, m, re)) << page.status << " " << page.body;
    return m.size() > 1 ? m[1].str() : "";
  }
  static bool is_login_page(const http::Response& r) {
    return r.body.find("name=\"password\"") != std::string::npos;
  }
  static bool is_consent_page(const http::Response& r) {
    return r.body.find("name=\"decision\"") != std::string::npos;
  }
  static std::string location_of(const http::Response& r) {
    for (const auto& [name, value] : r.headers) {
      if (name == "Location") return value;
    }
    return "";
  }
  static bool has_code(const http::Response& r) {
    return location_of(r).find("code=") != std::string::npos;
  }

  // A login form POST as the login page sends it, from `addr`, by a fresh browser that has
  // just been shown the login page.
  http::Response login(const std::string& username, const std::string& password,
                       const std::string& addr) {
    Jar jar;
    return login_in(jar, username, password, addr);
  }
  // The same in the browser holding `jar`; `extra` is added to the request's parameters.
  http::Response login_in(Jar& jar, const std::string& username, const std::string& password,
                          const std::string& addr, const std::string& extra = "") {
    auto page = send(jar, "GET", query(extra), addr);
    EXPECT_TRUE(is_login_page(page)) << page.status << " " << page.body;
    return send(jar, "POST",
                query(extra) + "&csrf=" + http::form_encode(csrf_of(page)) + "&username=" +
                    http::form_encode(username) + "&password=" + http::form_encode(password),
                addr);
  }
  http::Response right(const std::string& username, const std::string& addr) {
    return login(username, password_of(username), addr);
  }
  static bool logged_in(const http::Response& resp) {
    for (const auto& [name, value] : resp.headers) {
      if (name == "Set-Cookie" &&
          (value.rfind("lk_sid=", 0) == 0 || value.rfind("__Host-lk_sid=", 0) == 0)) {
        return true;
      }
    }
    return false;
  }
  static std::string wrong(int i) { return "wrong password " + std::to_string(i); }

  testsupport::TestWorld world_;
  testsupport::IssuerStack stack_;
  crypto::PasswordHasher passwords_;
  LoginThrottle throttle_;
  app::Metrics metrics_;
  app::FanOut events_;
  web::Pages pages_;
  AuthorizeEndpoint endpoint_;
  store::App app_;
  // What send() adds to every request, and the endpoint it sends to when not told (endpoint_
  // unless set).
  std::vector<std::pair<std::string, std::string>> extra_headers_;
  AuthorizeEndpoint* target_ = nullptr;
};

TEST_F(AuthorizeLoginTest, RightPasswordLogsIn) {
  auto resp = right("bob@localhost", "192.0.2.1");
  EXPECT_TRUE(logged_in(resp)) << resp.status;
  EXPECT_EQ(world_.events().count("login_success"), 1u);
}

TEST_F(AuthorizeLoginTest, FailuresHoldBackTheUserOnlyFromTheAddressThatFailed) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(login("bob@localhost", wrong(i), "192.0.2.1").status, 401u);
  auto held = right("bob@localhost", "192.0.2.1");
  EXPECT_EQ(held.status, 429u);
  EXPECT_FALSE(logged_in(held));
  // Case variants of the username are the same user (the store matches case-insensitively).
  EXPECT_EQ(right("BOB@localhost", "192.0.2.1").status, 429u);
  // Bob from anywhere else, and another user from that address, are not held back.
  EXPECT_TRUE(logged_in(right("bob@localhost", "198.51.100.7")));
  EXPECT_TRUE(logged_in(right("carol@localhost", "192.0.2.1")));
}

TEST_F(AuthorizeLoginTest, AnAttackerCannotLockTheUserOut) {
  // Sixty wrong passwords for bob from one address, each once its delay has passed (so every
  // one is checked and counted): that address waits longer and longer…
  for (int i = 0; i < 60; ++i) {
    world_.clock().advance_s(15 * 60 + 1);
    EXPECT_EQ(login("bob@localhost", wrong(i), "192.0.2.66").status, 401u) << i;
  }
  EXPECT_EQ(right("bob@localhost", "192.0.2.66").status, 429u);
  // …while bob, from an address that never failed, signs in at once.
  EXPECT_TRUE(logged_in(right("bob@localhost", "198.51.100.7")));
}

TEST_F(AuthorizeLoginTest, AddressLimitHoldsForEveryUsername) {
  // One address trying a different username each time is limited after 20.
  for (int i = 0; i < LoginThrottle::kFreePerAddress; ++i) {
    EXPECT_EQ(login("user" + std::to_string(i) + "@localhost", wrong(i), "192.0.2.1").status, 401u);
  }
  auto held = right("bob@localhost", "192.0.2.1");
  EXPECT_EQ(held.status, 429u);
  EXPECT_FALSE(logged_in(held));
  EXPECT_TRUE(logged_in(right("bob@localhost", "192.0.2.2")));
}

TEST_F(AuthorizeLoginTest, AnIPv6ClientIsCountedByItsSlash64) {
  // Guesses from many addresses of one /64 count against that /64, not only the addresses used.
  for (int i = 0; i < LoginThrottle::kFreePerAddress; ++i) {
    EXPECT_EQ(login("user" + std::to_string(i) + "@localhost", wrong(i),
                    "2001:db8:1:2::" + std::to_string(i + 1))
                  .status,
              401u);
  }
  EXPECT_EQ(right("bob@localhost", "2001:db8:1:2:dead:beef:0:99").status, 429u);
  EXPECT_TRUE(logged_in(right("bob@localhost", "2001:db8:1:3::1")));
}

TEST_F(AuthorizeLoginTest, DistributedGuessingIsHeldBackWhereItFailed) {
  // One guess from each of a hundred addresses: bob's ceiling is reached.
  for (int i = 0; i < LoginThrottle::kFreePerUser; ++i) {
    EXPECT_EQ(login("bob@localhost", wrong(i),
                    "198.51." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1))
                  .status,
              401u);
  }
  // An address that already failed for bob now waits; bob from a clean one does not.
  EXPECT_EQ(right("bob@localhost", "198.51.0.3").status, 429u);
  EXPECT_TRUE(logged_in(right("bob@localhost", "203.0.113.5")));
}

TEST_F(AuthorizeLoginTest, SuccessDoesNotResetTheAddressCount) {
  // An attacker with one valid account must not be able to clear their address's count
  // between guesses at other users' passwords.
  for (int i = 0; i < LoginThrottle::kFreePerAddress - 1; ++i) {
    login("user" + std::to_string(i) + "@localhost", wrong(i), "192.0.2.1");
  }
  EXPECT_TRUE(logged_in(right("carol@localhost", "192.0.2.1")));
  EXPECT_EQ(login("bob@localhost", wrong(0), "192.0.2.1").status, 401u);  // the twentieth
  EXPECT_EQ(right("carol@localhost", "192.0.2.1").status, 429u);
}

TEST_F(AuthorizeLoginTest, SuccessClearsThatUsersCountFromThatAddress) {
  for (int i = 0; i < 4; ++i) login("bob@localhost", wrong(i), "192.0.2.1");
  EXPECT_TRUE(logged_in(right("bob@localhost", "192.0.2.1")));
  // The count started again: four more failures are free.
  for (int i = 0; i < 4; ++i) login("bob@localhost", wrong(i), "192.0.2.1");
  EXPECT_TRUE(logged_in(right("bob@localhost", "192.0.2.1")));
}

TEST_F(AuthorizeLoginTest, ClientsOfATrustedProxyAreCountedApart) {
  auto d = deps(kIssuer, true);
  d.trusted_proxies = {*http::Cidr::parse("10.0.0.1")};
  AuthorizeEndpoint proxied(std::move(d));
  target_ = &proxied;
  // The attacker behind the proxy fails enough to hold back its address…
  for (int i = 0; i < LoginThrottle::kFreePerAddress; ++i) {
    extra_headers_ = {{"x-forwarded-for", "198.51.100.9"}};
    EXPECT_EQ(login("user" + std::to_string(i) + "@localhost", wrong(i), "10.0.0.1").status, 401u);
  }
  EXPECT_EQ(right("carol@localhost", "10.0.0.1").status, 429u);
  // …but bob behind the same proxy, another client, signs in.
  extra_headers_ = {{"forwarded", "for=198.51.100.10"}};
  EXPECT_TRUE(logged_in(right("bob@localhost", "10.0.0.1")));
  // From a peer that is not trusted, the header is ignored: a new X-Forwarded-For per guess
  // does not make a new address.
  for (int i = 0; i < 5; ++i) {
    extra_headers_ = {{"x-forwarded-for", "203.0.113." + std::to_string(i + 1)}};
    EXPECT_EQ(login("carol@localhost", wrong(i), "192.0.2.50").status, 401u);
  }
  extra_headers_ = {{"x-forwarded-for", "203.0.113.99"}};
  EXPECT_EQ(right("carol@localhost", "192.0.2.50").status, 429u);
}

TEST_F(AuthorizeLoginTest, LongUsernamesCostOneFixedSizeKeyEach) {
  // Usernames up to the 64 KiB body limit: memory per counter must not grow with them.
  const std::string base(60 * 1024, 'u');
  for (int i = 0; i < 10; ++i) {
    login(base + std::to_string(i), wrong(i), "192.0.2." + std::to_string(i + 1));
  }
  EXPECT_EQ(throttle_.size(), 30u);  // ten usernames, ten addresses, ten pairs of both
  EXPECT_LE(throttle_.key_bytes(), 30u * 32u);
  // The whole name is the key: the same long name is held back after five.
  for (int i = 0; i < 5; ++i) login(base, wrong(i), "198.51.100.1");
  EXPECT_EQ(login(base, wrong(9), "198.51.100.1").status, 429u);
}

TEST_F(AuthorizeLoginTest, AttemptsRefusedDuringALockoutAreFailedLogins) {
  // The audit log and the metrics see every failed login, including those refused unchecked.
  for (int i = 0; i < 5; ++i) login("bob@localhost", wrong(i), "192.0.2.1");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(right("bob@localhost", "192.0.2.1").status, 429u);
  EXPECT_EQ(world_.events().count("login_failure"), 8u);
  int locked_out = 0;
  for (const auto& e : world_.events().all()) {
    if (e.type == "login_failure" && e.detail == "locked_out") {
      ++locked_out;
      EXPECT_EQ(e.user, "bob@localhost");
      EXPECT_EQ(e.client_id, app_.client_id);
    }
  }
  EXPECT_EQ(locked_out, 3);
  EXPECT_NE(metrics_.render().find("\nlatchkey_failed_logins_total 8\n"), std::string::npos)
      << metrics_.render();
}

// ---- prompt=login and max_age at the consent POST (OIDC Core §3.1.2.1) ----

class AuthorizeSignInTest : public AuthorizeLoginTest {
 protected:
  // A browser signed in as bob for a plain request, left on the consent page.
  Jar signed_in() {
    Jar jar;
    auto consent = login_in(jar, "bob@localhost", password_of("bob@localhost"), "192.0.2.1");
    EXPECT_TRUE(is_consent_page(consent)) << consent.status << " " << consent.body;
    return jar;
  }
  // The consent form a signed-in browser is shown for a request without `extra`, answered
  // "allow" with `extra` added to the request's parameters: what whoever holds the session can
  // post without knowing the password.
  http::Response allow_with(Jar& jar, const std::string& extra) {
    auto page = send(jar, "GET", query(), "192.0.2.1");
    EXPECT_TRUE(is_consent_page(page)) << page.status << " " << page.body;
    return send(jar, "POST",
                query(extra) + "&csrf=" + http::form_encode(csrf_of(page)) + "&decision=allow",
                "192.0.2.1");
  }
};

TEST_F(AuthorizeSignInTest, ConsentPostWithPromptLoginAndNoSignInForItIssuesNoCode) {
  Jar jar = signed_in();
  auto resp = allow_with(jar, "&prompt=login");
  EXPECT_FALSE(has_code(resp)) << location_of(resp);
  EXPECT_TRUE(is_login_page(resp)) << resp.status << " " << location_of(resp);
  EXPECT_EQ(world_.events().count("consent_granted"), 0u);
}

TEST_F(AuthorizeSignInTest, ConsentPostWithMaxAgeOlderThanTheSignInIssuesNoCode) {
  Jar jar = signed_in();
  world_.clock().advance_s(2);
  auto resp = allow_with(jar, "&max_age=0");
  EXPECT_FALSE(has_code(resp)) << location_of(resp);
  EXPECT_TRUE(is_login_page(resp)) << resp.status << " " << location_of(resp);
  EXPECT_EQ(world_.events().count("consent_granted"), 0u);
  // A max_age the sign-in is within still lets the consent through.
  auto fine = allow_with(jar, "&max_age=60");
  EXPECT_TRUE(has_code(fine)) << fine.status << " " << fine.body;
}

TEST_F(AuthorizeSignInTest, ASignInForThePromptLoginRequestLeadsToACode) {
  Jar jar = signed_in();
  // The session is there, but prompt=login asks for the password again; once given, the
  // consent form of that request gets the code, however long the user reads it. (Once
  // approved, consent is remembered: prompt=consent asks again.)
  for (const std::string extra : {"&prompt=login", "&max_age=0&prompt=consent"}) {
    world_.clock().advance_s(5);
    auto consent = login_in(jar, "bob@localhost", password_of("bob@localhost"), "192.0.2.1", extra);
    ASSERT_TRUE(is_consent_page(consent)) << extra << ": " << consent.status << " " << consent.body;
    world_.clock().advance_s(30);
    auto resp =
        send(jar, "POST",
             query(extra) + "&csrf=" + http::form_encode(csrf_of(consent)) + "&decision=allow",
             "192.0.2.1");
    EXPECT_TRUE(has_code(resp)) << extra << ": " << resp.status << " " << resp.body;
  }
}

TEST_F(AuthorizeSignInTest, TheSignInCountsOnlyForTheRequestItWasMadeFor) {
  Jar jar = signed_in();
  auto consent =
      login_in(jar, "bob@localhost", password_of("bob@localhost"), "192.0.2.1", "&prompt=login");
  ASSERT_TRUE(is_consent_page(consent));
  // The same form posted for another request (other state) is no sign-in for that one.
  auto resp = send(jar, "POST",
                   query("&prompt=login&nonce=other") +
                       "&csrf=" + http::form_encode(csrf_of(consent)) + "&decision=allow",
                   "192.0.2.1");
  EXPECT_FALSE(has_code(resp)) << location_of(resp);
  EXPECT_EQ(resp.status, 403u);
}

// ---- CSRF tokens bound to server state, and the cookies (RFC 9700 §4.7) ----

TEST_F(AuthorizeLoginTest, LoginWithAnEqualCookieAndFieldMadeUpByTheAttackerIsRefused) {
  // Double-submit alone would take any equal pair; the token must be derived by the server.
  Jar jar;
  auto page = send(jar, "GET", query());
  ASSERT_EQ(jar.cookies.size(), 1u);
  const std::string made_up = "attacker-chosen-value-0123456789abcdefghijk";  // 43 chars
  jar.cookies.begin()->second = made_up;
  auto resp = send(jar, "POST",
                   query() + "&csrf=" + made_up + "&username=bob%40localhost&password=" +
                       http::form_encode(password_of("bob@localhost")));
  EXPECT_EQ(resp.status, 403u);
  EXPECT_FALSE(logged_in(resp));
  EXPECT_EQ(world_.events().count("login_success"), 0u);
}

TEST_F(AuthorizeLoginTest, LoginWithTheTokenOfAnotherPreSessionIsRefused) {
  Jar victim, attacker;
  send(victim, "GET", query());
  auto theirs = send(attacker, "GET", query());
  auto resp = send(
      victim, "POST",
      query() + "&csrf=" + http::form_encode(csrf_of(theirs)) +
          "&username=bob%40localhost&password=" + http::form_encode(password_of("bob@localhost")));
  EXPECT_EQ(resp.status, 403u);
  EXPECT_FALSE(logged_in(resp));
}

TEST_F(AuthorizeLoginTest, ConsentWithAMadeUpTokenOrAnotherSessionsTokenIsRefused) {
  Jar bob, carol;
  ASSERT_TRUE(
      is_consent_page(login_in(bob, "bob@localhost", password_of("bob@localhost"), "192.0.2.1")));
  auto carols = login_in(carol, "carol@localhost", password_of("carol@localhost"), "192.0.2.2");
  ASSERT_TRUE(is_consent_page(carols));
  // An equal cookie and field of the attacker's making, next to bob's real session.
  const std::string made_up = "attacker-chosen-value-0123456789abcdefghijk";
  for (auto& [name, value] : bob.cookies) {
    if (name.find("csrf") != std::string::npos) value = made_up;
  }
  auto forged = send(bob, "POST", query() + "&csrf=" + made_up + "&decision=allow", "192.0.2.1");
  EXPECT_EQ(forged.status, 403u);
  EXPECT_FALSE(has_code(forged));
  // Carol's genuine consent token in bob's browser.
  auto other =
      send(bob, "POST", query() + "&csrf=" + http::form_encode(csrf_of(carols)) + "&decision=allow",
           "192.0.2.1");
  EXPECT_EQ(other.status, 403u);
  EXPECT_FALSE(has_code(other));
  EXPECT_EQ(world_.events().count("consent_granted"), 0u);
}

TEST_F(AuthorizeLoginTest, ACookieNameSentTwiceIsRefused) {
  Jar bob;
  auto consent = login_in(bob, "bob@localhost", password_of("bob@localhost"), "192.0.2.1");
  ASSERT_TRUE(is_consent_page(consent));
  const std::string genuine = bob.header();
  for (const auto& [name, value] : bob.cookies) {
    // A second cookie of the same name, in the same Cookie field and in another one.
    for (bool same_field : {true, false}) {
      http::Request r;
      r.method = "POST";
      r.target = r.path = "/services/oauth2/authorize";
      r.remote_addr = "192.0.2.1";
      r.body = query() + "&csrf=" + http::form_encode(csrf_of(consent)) + "&decision=allow";
      const std::string planted = name + "=planted-" + value.substr(0, 10);
      if (same_field) {
        r.headers.emplace_back("cookie", planted + "; " + genuine);
      } else {
        r.headers.emplace_back("cookie", genuine);
        r.headers.emplace_back("cookie", planted);
      }
      auto resp = testsupport::released(endpoint_.handle(r));
      EXPECT_EQ(resp.status, 400u) << name << " " << same_field;
      EXPECT_FALSE(has_code(resp)) << name;
      EXPECT_NE(resp.body.find("invalid_request"), std::string::npos) << resp.body;
      // The GET too: no page is shown for a request with two session cookies.
      r.method = "GET";
      r.query = query();
      r.body.clear();
      auto page = testsupport::released(endpoint_.handle(r));
      EXPECT_EQ(page.status, 400u) << name << " " << same_field;
    }
  }
  EXPECT_EQ(world_.events().count("consent_granted"), 0u);
}

TEST_F(AuthorizeLoginTest, CookiesAreHostPrefixedAndSecureOverHttpsOnly) {
  auto set_cookies = [](const http::Response& resp) {
    std::vector<std::string> out;
    for (const auto& [name, value] : resp.headers) {
      if (name == "Set-Cookie") out.push_back(value);
    }
    return out;
  };
  // An https issuer: __Host- names, Secure, Path=/, no Domain (RFC 6265bis §4.1.3.2).
  Jar jar;
  auto page = send(jar, "GET", query());
  auto consent = send(
      jar, "POST",
      query() + "&csrf=" + http::form_encode(csrf_of(page)) +
          "&username=bob%40localhost&password=" + http::form_encode(password_of("bob@localhost")));
  auto https = set_cookies(page);
  for (const auto& c : set_cookies(consent)) https.push_back(c);
  ASSERT_EQ(https.size(), 2u);
  for (const auto& c : https) {
    EXPECT_EQ(c.rfind("__Host-", 0), 0u) << c;
    EXPECT_NE(c.find("; Secure"), std::string::npos) << c;
    EXPECT_NE(c.find("; Path=/;"), std::string::npos) << c;
    EXPECT_EQ(c.find("Domain"), std::string::npos) << c;
    EXPECT_NE(c.find("; HttpOnly"), std::string::npos) << c;
  }
  // An http issuer: plain names and no Secure, which browsers would reject over http; the
  // same server's TLS listener is https to the browser again.
  AuthorizeEndpoint plain(deps("http://127.0.0.1:8080", false));
  Jar http_jar;
  auto http_page = send(http_jar, "GET", query(), "192.0.2.1", &plain);
  ASSERT_EQ(set_cookies(http_page).size(), 1u);
  EXPECT_EQ(set_cookies(http_page)[0].rfind("lk_csrf=", 0), 0u) << set_cookies(http_page)[0];
  EXPECT_EQ(set_cookies(http_page)[0].find("Secure"), std::string::npos);
  http::Request tls;
  tls.method = "GET";
  tls.path = "/services/oauth2/authorize";
  tls.query = query();
  tls.target = tls.path + "?" + tls.query;
  tls.remote_addr = "192.0.2.1";
  tls.tls = true;
  auto tls_page = plain.handle(tls);
  ASSERT_EQ(set_cookies(tls_page).size(), 1u);
  EXPECT_EQ(set_cookies(tls_page)[0].rfind("__Host-lk_csrf=", 0), 0u) << set_cookies(tls_page)[0];
  EXPECT_NE(set_cookies(tls_page)[0].find("; Secure"), std::string::npos);
}

TEST_F(AuthorizeLoginTest, AFailedLoginNamesOnlyAnExistingUser) {
  // A password typed into the username box names no user: it must not reach the audit log.
  const std::string typed_password = "Tr0ub4dor&3-typed-in-the-wrong-box";
  EXPECT_EQ(login(typed_password, "anything", "192.0.2.1").status, 401u);
  // An existing user is named (as stored, whatever the case typed).
  EXPECT_EQ(login("BOB@localhost", wrong(1), "192.0.2.2").status, 401u);
  // Refused during a lockout: the same rule.
  for (int i = 0; i < 5; ++i) login(typed_password, wrong(i), "192.0.2.3");
  EXPECT_EQ(login(typed_password, "anything", "192.0.2.3").status, 429u);
  std::vector<std::string> users;
  for (const auto& e : world_.events().all()) {
    if (e.type != "login_failure") continue;
    users.push_back(e.user);
    EXPECT_EQ(e.user.find("Tr0ub4dor"), std::string::npos) << e.user;
  }
  ASSERT_EQ(users.size(), 8u);
  EXPECT_EQ(users[0], "unknown");
  EXPECT_EQ(users[1], "bob@localhost");
  EXPECT_EQ(users[7], "unknown");
}

}  // namespace
}  // namespace latchkey::oauth
