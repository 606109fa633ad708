// The login step of the authorize endpoint under guessing (CONTRACT §6: failed logins are
// limited per user and per address), driven through AuthorizeEndpoint::handle with login
// form POSTs from chosen client addresses.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "app/audit_log.h"
#include "app/metrics.h"
#include "crypto/password.h"
#include "http/params.h"
#include "oauth/authorize/authorize_endpoint.h"
#include "oauth/failure_throttle.h"
#include "unit/server/test_support.h"
#include "web/pages.h"

namespace latchkey::oauth {
namespace {

using testsupport::kCallback;
using testsupport::kIssuer;

constexpr const char* kCsrf = "csrf-value-for-the-login-tests-0123456789ab";  // 43 chars

class AuthorizeLoginTest : public ::testing::Test {
 protected:
  AuthorizeLoginTest()
      : stack_(world_, kIssuer),
        // The smallest Argon2id cost: these tests are about counting, not hashing.
        passwords_(world_.random(), {8, 1, 1}),
        throttle_(world_.clock()),
        events_(fan_out()),
        endpoint_({world_.db(), world_.db(), world_.db(), world_.db(), world_.db(), stack_.issuer,
                   stack_.ids, passwords_, throttle_, pages_, world_.random(), world_.clock(),
                   events_, kIssuer, true}) {
    app_ = world_.add_app();
    add_user("bob@localhost", "005000000000002AAA");
    add_user("carol@localhost", "005000000000003AAA");
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

  // A login form POST as the login page sends it, from `addr`.
  http::Response login(const std::string& username, const std::string& password,
                       const std::string& addr) {
    http::Request r;
    r.method = "POST";
    r.target = r.path = "/services/oauth2/authorize";
    r.remote_addr = addr;
    r.headers.emplace_back("cookie", std::string("lk_csrf=") + kCsrf);
    r.body = "response_type=code&client_id=" + http::form_encode(app_.client_id) +
             "&redirect_uri=" + http::form_encode(kCallback) + "&csrf=" + kCsrf +
             "&username=" + http::form_encode(username) +
             "&password=" + http::form_encode(password);
    return testsupport::released(endpoint_.handle(r));
  }
  http::Response right(const std::string& username, const std::string& addr) {
    return login(username, password_of(username), addr);
  }
  static bool logged_in(const http::Response& resp) {
    for (const auto& [name, value] : resp.headers) {
      if (name == "Set-Cookie" && value.rfind("lk_sid=", 0) == 0) return true;
    }
    return false;
  }
  static std::string wrong(int i) { return "wrong password " + std::to_string(i); }

  testsupport::TestWorld world_;
  testsupport::IssuerStack stack_;
  crypto::PasswordHasher passwords_;
  FailureThrottle throttle_;
  app::Metrics metrics_;
  app::FanOut events_;
  web::Pages pages_;
  AuthorizeEndpoint endpoint_;
  store::App app_;
};

TEST_F(AuthorizeLoginTest, RightPasswordLogsIn) {
  auto resp = right("bob@localhost", "192.0.2.1");
  EXPECT_TRUE(logged_in(resp)) << resp.status;
  EXPECT_EQ(world_.events().count("login_success"), 1u);
}

TEST_F(AuthorizeLoginTest, UserLockoutHoldsFromEveryAddress) {
  // Guesses spread over many addresses still lock the user they target.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(login("bob@localhost", wrong(i), "192.0.2." + std::to_string(i + 1)).status, 401u);
  }
  auto locked = right("bob@localhost", "198.51.100.7");
  EXPECT_EQ(locked.status, 429u);
  EXPECT_FALSE(logged_in(locked));
  // Case variants of the username are the same user (the store matches case-insensitively).
  EXPECT_EQ(right("BOB@localhost", "198.51.100.8").status, 429u);
  // Another user from that fresh address is not held back.
  EXPECT_TRUE(logged_in(right("carol@localhost", "198.51.100.7")));
}

TEST_F(AuthorizeLoginTest, AddressLockoutHoldsForEveryUsername) {
  // One address trying a different username each time is still limited.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(login("user" + std::to_string(i) + "@localhost", wrong(i), "192.0.2.1").status, 401u);
  }
  auto locked = right("bob@localhost", "192.0.2.1");
  EXPECT_EQ(locked.status, 429u);
  EXPECT_FALSE(logged_in(locked));
  EXPECT_TRUE(logged_in(right("bob@localhost", "192.0.2.2")));
}

TEST_F(AuthorizeLoginTest, AnIPv6ClientIsCountedByItsSlash64) {
  // Guesses from five addresses of one /64 lock that /64, not only the addresses used.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(login("user" + std::to_string(i) + "@localhost", wrong(i),
                    "2001:db8:1:2::" + std::to_string(i + 1))
                  .status,
              401u);
  }
  EXPECT_EQ(right("bob@localhost", "2001:db8:1:2:dead:beef:0:99").status, 429u);
  EXPECT_TRUE(logged_in(right("bob@localhost", "2001:db8:1:3::1")));
}

TEST_F(AuthorizeLoginTest, SuccessDoesNotResetTheAddressCount) {
  // An attacker with one valid account must not be able to clear their address's count
  // between guesses at other users' passwords.
  for (int i = 0; i < 4; ++i) login("bob@localhost", wrong(i), "192.0.2.1");
  EXPECT_TRUE(logged_in(right("carol@localhost", "192.0.2.1")));
  EXPECT_EQ(login("bob@localhost", wrong(4), "192.0.2.1").status, 401u);  // the fifth
  EXPECT_EQ(right("carol@localhost", "192.0.2.1").status, 429u);
}

TEST_F(AuthorizeLoginTest, SuccessClearsThatUsersCount) {
  for (int i = 0; i < 4; ++i) login("bob@localhost", wrong(i), "192.0.2." + std::to_string(i));
  EXPECT_TRUE(logged_in(right("bob@localhost", "198.51.100.1")));
  // The count started again: four more failures from fresh addresses are free.
  for (int i = 0; i < 4; ++i) login("bob@localhost", wrong(i), "203.0.113." + std::to_string(i));
  EXPECT_TRUE(logged_in(right("bob@localhost", "198.51.100.2")));
}

TEST_F(AuthorizeLoginTest, LongUsernamesCostOneFixedSizeKeyEach) {
  // Usernames up to the 64 KiB body limit: memory per counter must not grow with them.
  const std::string base(60 * 1024, 'u');
  for (int i = 0; i < 10; ++i) {
    login(base + std::to_string(i), wrong(i), "192.0.2." + std::to_string(i + 1));
  }
  EXPECT_EQ(throttle_.size(), 20u);  // ten usernames, ten addresses
  EXPECT_LE(throttle_.key_bytes(), 20u * 32u);
  // The whole name is the key: the same long name from new addresses is locked out after five.
  for (int i = 0; i < 5; ++i) login(base, wrong(i), "198.51.100." + std::to_string(i + 1));
  EXPECT_EQ(login(base, wrong(9), "203.0.113.1").status, 429u);
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

TEST_F(AuthorizeLoginTest, AFailedLoginNamesOnlyAnExistingUser) {
  // A password typed into the username box names no user: it must not reach the audit log.
  const std::string typed_password = "Tr0ub4dor&3-typed-in-the-wrong-box";
  EXPECT_EQ(login(typed_password, "anything", "192.0.2.1").status, 401u);
  // An existing user is named (as stored, whatever the case typed).
  EXPECT_EQ(login("BOB@localhost", wrong(1), "192.0.2.2").status, 401u);
  // Refused during a lockout: the same rule.
  for (int i = 0; i < 5; ++i) login(typed_password, wrong(i), "192.0.2.3");
  EXPECT_EQ(login(typed_password, "anything", "192.0.2.4").status, 429u);
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
