// StoreConformance: ReplayStore, the single-use identifiers of assertions (RFC 7523 §3 item 7,
// RFC 7522 §3 item 7), kept until they expire, atomically and across handles and restarts.
#include <atomic>
#include <thread>
#include <vector>

#include "conformance.h"

namespace latchkey::store::testing {
namespace {

using Use = ReplayStore::Use;
constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kQuota = 1000;

TEST_P(StoreConformance, ReplayKeyIsFirstOnceThenReplayedUntilItExpires) {
  EXPECT_EQ(db().first_use("jti-1", "3MVG9one", kNow + 60'000, kNow, kQuota), Use::first);
  EXPECT_EQ(db().first_use("jti-1", "3MVG9one", kNow + 60'000, kNow, kQuota), Use::replayed);
  // Another client's use of the same text is still the same key: callers put the client id in
  // the key when it should not be.
  EXPECT_EQ(db().first_use("jti-1", "3MVG9two", kNow + 60'000, kNow + 1, kQuota), Use::replayed);
  EXPECT_EQ(db().first_use("jti-1", "3MVG9one", kNow + 60'000, kNow + 59'999, kQuota),
            Use::replayed);
  EXPECT_EQ(db().first_use("jti-2", "3MVG9one", kNow + 60'000, kNow, kQuota), Use::first);
}

TEST_P(StoreConformance, ExpiredReplayKeyIsUsableAgain) {
  ASSERT_EQ(db().first_use("jti-1", "3MVG9one", kNow + 60'000, kNow, kQuota), Use::first);
  // At its expiry the assertion could no longer be accepted, so the key is free again, and it
  // is held anew until the new expiry.
  EXPECT_EQ(db().first_use("jti-1", "3MVG9one", kNow + 120'000, kNow + 60'000, kQuota), Use::first);
  EXPECT_EQ(db().first_use("jti-1", "3MVG9one", kNow + 120'000, kNow + 60'001, kQuota),
            Use::replayed);
}

TEST_P(StoreConformance, ReplayQuotaIsPerClientAndCountsOnlyLiveKeys) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(db().first_use("a-" + std::to_string(i), "3MVG9full", kNow + 1000 * (i + 1), kNow, 3),
              Use::first);
  }
  // The full client's new keys are refused, and nothing is recorded for them...
  EXPECT_EQ(db().first_use("a-new", "3MVG9full", kNow + 60'000, kNow, 3), Use::over_quota);
  // ...while a replay is still told apart, and other clients are unaffected.
  EXPECT_EQ(db().first_use("a-0", "3MVG9full", kNow + 60'000, kNow, 3), Use::replayed);
  EXPECT_EQ(db().first_use("b-0", "3MVG9other", kNow + 60'000, kNow, 3), Use::first);
  // Once one of the full client's keys has expired, it has room for one more.
  EXPECT_EQ(db().first_use("a-new", "3MVG9full", kNow + 60'000, kNow + 1000, 3), Use::first);
  EXPECT_EQ(db().first_use("a-newer", "3MVG9full", kNow + 60'000, kNow + 1000, 3), Use::over_quota);
}

TEST_P(StoreConformance, ReplayKeysSurviveARestartAndAreSharedAcrossHandles) {
  if (!GetParam().persistent) GTEST_SKIP() << "in-memory databases end with their handle";
  ASSERT_EQ(db().first_use("jti-1", "3MVG9one", kNow + 60'000, kNow, kQuota), Use::first);
  auto other = open_again();
  EXPECT_EQ(other->first_use("jti-1", "3MVG9one", kNow + 60'000, kNow, kQuota), Use::replayed);
  EXPECT_EQ(other->first_use("jti-2", "3MVG9one", kNow + 60'000, kNow, kQuota), Use::first);
  other.reset();
  reopen();
  EXPECT_EQ(db().first_use("jti-1", "3MVG9one", kNow + 60'000, kNow, kQuota), Use::replayed);
  EXPECT_EQ(db().first_use("jti-2", "3MVG9one", kNow + 60'000, kNow, kQuota), Use::replayed);
}

TEST_P(StoreConformance, ConcurrentFirstUseOfOneKeyHasExactlyOneWinner) {
  if (!GetParam().persistent) GTEST_SKIP() << "a second handle would see another database";
  std::vector<std::unique_ptr<Database>> handles;
  for (int i = 0; i < 4; ++i) handles.push_back(open_again());
  std::atomic<int> firsts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Database& h = *handles[static_cast<std::size_t>(i) % handles.size()];
      if (h.first_use("contended", "3MVG9one", kNow + 60'000, kNow, kQuota) == Use::first) {
        ++firsts;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(firsts.load(), 1);
}

}  // namespace
}  // namespace latchkey::store::testing
