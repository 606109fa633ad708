#include "oauth/failure_throttle.h"

#include <gtest/gtest.h>

#include <string>

#include "core/clock.h"

namespace latchkey::oauth {
namespace {

void fail_n(FailureThrottle& t, const std::string& key, int n) {
  for (int i = 0; i < n; ++i) t.failure(key);
}

TEST(FailureThrottle, UnknownKeyMayTryNow) {
  FakeClock clock;
  FailureThrottle t(clock);
  EXPECT_EQ(t.wait_s("alice@localhost"), 0);
}

TEST(FailureThrottle, FiveFailuresAreFreeThenLockoutStarts) {
  FakeClock clock;
  FailureThrottle t(clock);
  fail_n(t, "alice@localhost", 4);
  EXPECT_EQ(t.wait_s("alice@localhost"), 0);
  t.failure("alice@localhost");  // the fifth
  EXPECT_GT(t.wait_s("alice@localhost"), 0);
  // Other keys are unaffected.
  EXPECT_EQ(t.wait_s("bob@localhost"), 0);
}

TEST(FailureThrottle, LockoutGrowsWithEachFurtherFailure) {
  FakeClock clock;
  FailureThrottle t(clock);
  fail_n(t, "k", 5);
  int64_t previous = t.wait_s("k");
  EXPECT_EQ(previous, 1);
  for (int i = 0; i < 5; ++i) {
    t.failure("k");
    int64_t now = t.wait_s("k");
    EXPECT_GT(now, previous) << "after " << (6 + i) << " failures";
    previous = now;
  }
}

TEST(FailureThrottle, LockoutIsCappedAtFifteenMinutes) {
  FakeClock clock;
  FailureThrottle t(clock);
  fail_n(t, "k", 40);
  EXPECT_GT(t.wait_s("k"), 0);
  EXPECT_LE(t.wait_s("k"), 15 * 60);
}

TEST(FailureThrottle, LockoutEndsWhenItsTimeHasPassed) {
  FakeClock clock;
  FailureThrottle t(clock);
  fail_n(t, "k", 7);
  int64_t wait = t.wait_s("k");
  ASSERT_GT(wait, 0);
  clock.advance_s(wait - 1);
  EXPECT_GT(t.wait_s("k"), 0);
  clock.advance_s(1);
  EXPECT_EQ(t.wait_s("k"), 0);
}

TEST(FailureThrottle, SuccessClearsFailures) {
  FakeClock clock;
  FailureThrottle t(clock);
  fail_n(t, "k", 6);
  ASSERT_GT(t.wait_s("k"), 0);
  t.success("k");
  EXPECT_EQ(t.wait_s("k"), 0);
  // The count restarts: four more failures are free again.
  fail_n(t, "k", 4);
  EXPECT_EQ(t.wait_s("k"), 0);
}

TEST(FailureThrottle, QuietKeyIsForgottenAfterAnHour) {
  FakeClock clock;
  FailureThrottle t(clock);
  fail_n(t, "k", 4);
  clock.advance_s(60 * 60 + 1);
  t.failure("k");  // counts as the first failure of a new series
  EXPECT_EQ(t.wait_s("k"), 0);
}

TEST(FailureThrottle, EntriesAreBoundedByMaxEntries) {
  // docs/behaviour.md §6 rate limiting must not let an attacker grow memory without bound.
  FakeClock clock;
  FailureThrottle one(clock, 1);
  fail_n(one, "a", 5);
  ASSERT_GT(one.wait_s("a"), 0);
  one.failure("b");  // table full: "a" must go
  EXPECT_EQ(one.wait_s("a"), 0);

  constexpr int kMax = 3;
  FailureThrottle t(clock, kMax);
  for (int i = 0; i < 20; ++i) fail_n(t, "key" + std::to_string(i), 5);
  int locked = 0;
  for (int i = 0; i < 20; ++i) locked += t.wait_s("key" + std::to_string(i)) > 0 ? 1 : 0;
  EXPECT_LE(locked, kMax);
  EXPECT_GT(t.wait_s("key19"), 0);  // the newest key is kept
}

TEST(FailureThrottle, FullTableShedsQuietEntriesFirst) {
  FakeClock clock;
  FailureThrottle t(clock, 2);
  t.failure("old");
  clock.advance_s(60 * 60 + 1);
  fail_n(t, "active", 5);
  fail_n(t, "new", 5);  // full: "old" is quiet and goes, "active" stays
  EXPECT_GT(t.wait_s("active"), 0);
  EXPECT_GT(t.wait_s("new"), 0);
}

// Regression: a full table sheds the least recently active key, so flooding it with junk
// keys cannot lift a lockout early (docs/behaviour.md §6 rate limiting).
TEST(FailureThrottle, FullTableEvictsTheLeastRecentlyActiveEntry) {
  for (int round = 0; round < 16; ++round) {
    FakeClock clock;
    FailureThrottle t(clock, 3);
    const std::string tag = std::to_string(round);
    t.failure("idle-a" + tag);
    clock.advance_s(1);
    t.failure("idle-b" + tag);
    clock.advance_s(1);
    fail_n(t, "victim" + tag, 8);  // locked for 8 s
    t.failure("newcomer" + tag);   // table full: an idle key should go, not the victim
    EXPECT_GT(t.wait_s("victim" + tag), 0) << "round " << round;
  }
}

TEST(FailureThrottle, LongKeyCostsOneFixedSizeDigest) {
  // An attacker chooses the key (a username of up to 64 KiB): an entry must cost the same
  // whatever its length, or the entry cap alone would not bound memory.
  FakeClock clock;
  FailureThrottle t(clock);
  const std::string huge(60 * 1024, 'x');
  fail_n(t, huge, 5);
  EXPECT_GT(t.wait_s(huge), 0);
  EXPECT_EQ(t.wait_s(huge + "y"), 0);  // the whole text counts, not a prefix
  EXPECT_EQ(t.size(), 1u);
  EXPECT_LE(t.key_bytes(), 32u);
}

TEST(FailureThrottle, FullTableShedsTheKeyThatFailedLeastRecently) {
  // Activity, not first appearance, decides what goes: a key that failed again is kept.
  FakeClock clock;
  FailureThrottle t(clock, 3);
  for (const char* k : {"a", "b", "c"}) {
    fail_n(t, k, 8);  // locked for 8 s, longer than this test's clock moves
    clock.advance_s(1);
  }
  t.failure("a");  // "a" is now the most recently active, "b" the least
  fail_n(t, "d", 5);
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.wait_s("b"), 0);
  EXPECT_GT(t.wait_s("a"), 0);
  EXPECT_GT(t.wait_s("c"), 0);
  EXPECT_GT(t.wait_s("d"), 0);
}

TEST(FailureThrottle, FreeFailuresCanBeChosen) {
  FakeClock clock;
  FailureThrottle t(clock, 50'000, 15 * 60 * 1000, 20);
  fail_n(t, "k", 19);
  EXPECT_EQ(t.wait_s("k"), 0);
  t.failure("k");
  EXPECT_EQ(t.wait_s("k"), 1);
}

TEST(FailureThrottle, FailuresAreCountedUntilForgotten) {
  FakeClock clock;
  FailureThrottle t(clock);
  const auto k = FailureThrottle::key_of("k");
  EXPECT_EQ(t.failures(k), 0);
  t.failure(k);
  t.failure(k);
  EXPECT_EQ(t.failures(k), 2);
  clock.advance_s(60 * 60 + 1);  // an hour without a failure
  EXPECT_EQ(t.failures(k), 0);
  t.failure(k);
  EXPECT_EQ(t.failures(k), 1);
  t.success(k);
  EXPECT_EQ(t.failures(k), 0);
}

TEST(FailureThrottle, SuccessForgetsTheKeyAndFreesItsPlace) {
  FakeClock clock;
  FailureThrottle t(clock, 2);
  fail_n(t, "a", 5);
  fail_n(t, "b", 5);
  t.success("b");
  EXPECT_EQ(t.size(), 1u);
  fail_n(t, "c", 5);  // room was made by the success: "a" stays locked
  EXPECT_GT(t.wait_s("a"), 0);
  EXPECT_GT(t.wait_s("c"), 0);
}

}  // namespace
}  // namespace latchkey::oauth

namespace latchkey::oauth {
namespace {

TEST(FailureThrottleAddress, IPv6CountsByItsSlash64AndIPv4AsItIs) {
  EXPECT_EQ(FailureThrottle::address_of("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(FailureThrottle::address_of("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(FailureThrottle::address_of("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  EXPECT_NE(FailureThrottle::address_of("2001:db8:1:3::1"), "2001:db8:1:2::/64");
  // An IPv4 client on a dual-stack socket is still its IPv4 address.
  EXPECT_EQ(FailureThrottle::address_of("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(FailureThrottle::address_of("not an address"), "not an address");
}

}  // namespace
}  // namespace latchkey::oauth
