// The login throttle's policy (oauth/login_throttle.h): progressive delays per (username,
// address) and per address, a far higher ceiling per username that holds back only addresses
// that failed for it, and never a lockout of a user signing in from a clean address.
#include "oauth/login_throttle.h"

#include <gtest/gtest.h>

#include <string>

#include "core/clock.h"

namespace latchkey::oauth {
namespace {

using Keys = LoginThrottle::Keys;

std::string addr(int i) {
  return "198.51." + std::to_string(i / 256) + "." + std::to_string(i % 256);
}

TEST(LoginThrottle, FailuresFromOneAddressDelayThatAddressForThatUserOnly) {
  FakeClock clock;
  LoginThrottle t(clock);
  const Keys attacker = LoginThrottle::keys_of("bob@localhost", "192.0.2.1");
  for (int i = 0; i < LoginThrottle::kFreePerUserAndAddress - 1; ++i) t.failure(attacker);
  EXPECT_EQ(t.wait_s(attacker), 0);
  t.failure(attacker);
  EXPECT_EQ(t.wait_s(attacker), 1);
  // The delay doubles with each further failure (made once the delay has passed).
  for (int64_t expected : {2, 4, 8, 16}) {
    clock.advance_s(t.wait_s(attacker));
    t.failure(attacker);
    EXPECT_EQ(t.wait_s(attacker), expected);
  }
  // Case variants of the username are the same user.
  EXPECT_GT(t.wait_s(LoginThrottle::keys_of("BOB@localhost", "192.0.2.1")), 0);
  // Bob from another address, and another user from the attacker's address, are not held.
  EXPECT_EQ(t.wait_s(LoginThrottle::keys_of("bob@localhost", "192.0.2.2")), 0);
  EXPECT_EQ(t.wait_s(LoginThrottle::keys_of("carol@localhost", "192.0.2.1")), 0);
}

TEST(LoginThrottle, ManyFailuresAtOneUserNeverHoldBackAnAddressThatNeverFailed) {
  FakeClock clock;
  LoginThrottle t(clock);
  const Keys attacker = LoginThrottle::keys_of("bob@localhost", "192.0.2.1");
  for (int i = 0; i < 200; ++i) {
    clock.advance_s(t.wait_s(attacker));
    t.failure(attacker);
  }
  EXPECT_GT(t.wait_s(attacker), 60);
  EXPECT_EQ(t.wait_s(LoginThrottle::keys_of("bob@localhost", "203.0.113.5")), 0);
}

TEST(LoginThrottle, OneAddressGuessingManyUsernamesIsDelayed) {
  FakeClock clock;
  LoginThrottle t(clock);
  for (int i = 0; i < LoginThrottle::kFreePerAddress; ++i) {
    const Keys k = LoginThrottle::keys_of("user" + std::to_string(i), "192.0.2.1");
    EXPECT_EQ(t.wait_s(k), 0) << i;
    t.failure(k);
  }
  EXPECT_GT(t.wait_s(LoginThrottle::keys_of("bob@localhost", "192.0.2.1")), 0);
  EXPECT_EQ(t.wait_s(LoginThrottle::keys_of("bob@localhost", "192.0.2.2")), 0);
}

TEST(LoginThrottle, DistributedGuessingAtOneUserIsDelayedForAddressesThatFailed) {
  FakeClock clock;
  LoginThrottle t(clock);
  // One guess from each of many addresses: no pair and no address reaches its limit.
  for (int i = 0; i < LoginThrottle::kFreePerUser; ++i) {
    const Keys k = LoginThrottle::keys_of("bob@localhost", addr(i));
    EXPECT_EQ(t.wait_s(k), 0) << i;
    t.failure(k);
  }
  // From then on every address that has failed for bob waits…
  EXPECT_GT(t.wait_s(LoginThrottle::keys_of("bob@localhost", addr(7))), 0);
  // …but not a clean address (bob himself), and not other users.
  EXPECT_EQ(t.wait_s(LoginThrottle::keys_of("bob@localhost", "203.0.113.5")), 0);
  EXPECT_EQ(t.wait_s(LoginThrottle::keys_of("carol@localhost", addr(7))), 0);
}

TEST(LoginThrottle, SuccessClearsThePairAndTheUserButNotTheAddress) {
  FakeClock clock;
  LoginThrottle t(clock);
  const Keys bob = LoginThrottle::keys_of("bob@localhost", "192.0.2.1");
  for (int i = 0; i < LoginThrottle::kFreePerUserAndAddress - 1; ++i) t.failure(bob);
  t.success(bob);
  for (int i = 0; i < LoginThrottle::kFreePerUserAndAddress - 1; ++i) t.failure(bob);
  EXPECT_EQ(t.wait_s(bob), 0);
  // The address's count went on through the success: 8 so far, 12 more reach its limit.
  for (int i = 0; i < LoginThrottle::kFreePerAddress - 8; ++i) {
    t.failure(LoginThrottle::keys_of("user" + std::to_string(i), "192.0.2.1"));
  }
  EXPECT_GT(t.wait_s(LoginThrottle::keys_of("carol@localhost", "192.0.2.1")), 0);
}

TEST(LoginThrottle, IPv6AddressesCountByTheirSlash64) {
  FakeClock clock;
  LoginThrottle t(clock);
  for (int i = 0; i < LoginThrottle::kFreePerUserAndAddress; ++i) {
    t.failure(LoginThrottle::keys_of("bob@localhost", "2001:db8:1:2::" + std::to_string(i + 1)));
  }
  EXPECT_GT(t.wait_s(LoginThrottle::keys_of("bob@localhost", "2001:db8:1:2:dead:beef:0:99")), 0);
  EXPECT_EQ(t.wait_s(LoginThrottle::keys_of("bob@localhost", "2001:db8:1:3::1")), 0);
}

}  // namespace
}  // namespace latchkey::oauth
