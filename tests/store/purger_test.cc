// ExpiredRowPurger: when batches run, on a fake clock, over an in-memory database.
#include "store/purger.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "store/open.h"

namespace latchkey::store {
namespace {

constexpr int64_t kHour = 3'600'000;

class PurgerTest : public ::testing::Test {
 protected:
  PurgerTest() : db_(open_database("sqlite::memory:")) {}

  // `n` access tokens expiring at `expires_ms`; returns them as saved.
  std::vector<Token> add_tokens(int n, int64_t expires_ms, const std::string& prefix) {
    std::vector<Token> tokens;
    for (int i = 0; i < n; ++i) {
      Token t;
      t.id = db_->allocate_id();
      t.token_hash = prefix + std::to_string(i);
      t.client_id = "3MVG9client";
      t.user_id = "005000000000001";
      t.org_id = "00D000000000001";
      t.issued_ms = clock_.now_ms() - 2 * kHour;
      t.expires_ms = expires_ms;
      tokens.push_back(t);
    }
    db_->save_tokens(tokens);
    return tokens;
  }

  int present(const std::vector<Token>& tokens) {
    int n = 0;
    for (const Token& t : tokens) n += db_->find_token(t.ref()).has_value() ? 1 : 0;
    return n;
  }

  FakeClock clock_;
  std::unique_ptr<Database> db_;
};

TEST_F(PurgerTest, RunsBatchesAPauseApartThenRestsUntilTheNextPass) {
  ExpiredRowPurger::Options o;
  o.grace_ms = kHour;
  o.batch_rows = 5;
  o.pause_ms = 20;
  o.interval_ms = 60'000;
  ExpiredRowPurger purger(*db_, clock_, o);
  auto expired = add_tokens(12, clock_.now_ms() - 2 * kHour, "old");
  auto in_grace = add_tokens(3, clock_.now_ms() - kHour / 2, "grace");
  auto live = add_tokens(3, clock_.now_ms() + kHour, "live");

  // The first batch is due at once and deletes at most batch_rows rows.
  EXPECT_EQ(purger.run_due(), 20);
  EXPECT_EQ(purger.purged(), 5);
  // Not due again before the pause is over: nothing runs.
  clock_.set_ms(clock_.now_ms() + 19);
  EXPECT_EQ(purger.run_due(), 1);
  EXPECT_EQ(purger.purged(), 5);
  clock_.set_ms(clock_.now_ms() + 1);
  EXPECT_EQ(purger.run_due(), 20);
  EXPECT_EQ(purger.purged(), 10);

  // The rest of the pass, a pause apart, until the pass is over and the purger rests.
  int64_t wait = 0;
  for (int i = 0; i < 10 && wait != o.interval_ms; ++i) {
    clock_.set_ms(clock_.now_ms() + 20);
    wait = purger.run_due();
  }
  EXPECT_EQ(wait, o.interval_ms);
  EXPECT_EQ(purger.purged(), 12);
  EXPECT_EQ(present(expired), 0);
  EXPECT_EQ(present(in_grace), 3) << "expired less than the grace period ago";
  EXPECT_EQ(present(live), 3);

  // Resting: nothing runs before the interval has passed.
  clock_.set_ms(clock_.now_ms() + o.interval_ms - 1);
  EXPECT_EQ(purger.run_due(), 1);
  EXPECT_EQ(purger.purged(), 12);
  // Half an hour on, the rows that have left their grace period meanwhile go in the next pass.
  clock_.set_ms(clock_.now_ms() + kHour / 2);
  for (int i = 0; i < 10 && purger.run_due() != o.interval_ms; ++i) {
    clock_.set_ms(clock_.now_ms() + o.pause_ms);
  }
  EXPECT_EQ(present(in_grace), 0);
  EXPECT_EQ(present(live), 3);
  EXPECT_EQ(purger.purged(), 15);
}

TEST_F(PurgerTest, WaitsTheIntervalBeforeThePassAfterAnIdleOne) {
  ExpiredRowPurger::Options o;
  o.grace_ms = 0;
  o.interval_ms = 60'000;
  ExpiredRowPurger purger(*db_, clock_, o);
  EXPECT_EQ(purger.run_due(), 60'000) << "an empty database: the pass ends at once";
  add_tokens(2, clock_.now_ms() - 1, "old");
  clock_.set_ms(clock_.now_ms() + 59'999);
  EXPECT_EQ(purger.run_due(), 1);
  EXPECT_EQ(purger.purged(), 0);
  clock_.set_ms(clock_.now_ms() + 1);
  purger.run_due();
  EXPECT_EQ(purger.purged(), 2);
}

// The thread runs the batches on its own and stops promptly when asked, even mid-rest.
TEST_F(PurgerTest, ThreadPurgesAndStopsPromptly) {
  ExpiredRowPurger::Options o;
  o.grace_ms = 0;
  o.batch_rows = 2;
  o.pause_ms = 1;
  o.interval_ms = 3'600'000;
  auto expired = add_tokens(5, clock_.now_ms() - 1, "old");  // years before the real clock
  // The real clock: the thread waits in real time, and a fake clock that never moves would
  // keep every batch after the first from being due.
  SystemClock real;
  ExpiredRowPurger purger(*db_, real, o);
  bool failed = false;
  purger.start([&failed](const std::exception&) { failed = true; });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (purger.purged() < 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(purger.purged(), 5);
  const auto t0 = std::chrono::steady_clock::now();
  purger.stop();  // the thread now rests for an hour
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_FALSE(failed);
  EXPECT_EQ(present(expired), 0);
}

}  // namespace
}  // namespace latchkey::store
