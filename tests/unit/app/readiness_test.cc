// GET /readyz (docs/behaviour.md §4) asks app::Readiness whether the database answers. A probe
// storm must cost the database at most one ping a second, and a database that hangs must not
// hang the probes: each is answered, unavailable, within the timeout.
#include "app/readiness.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace latchkey::app {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A database whose ping answers, fails, or hangs until released, and counts the pings.
class FakeHealth final : public store::HealthStore {
 public:
  void ping() override {
    ++pings;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !hanging_; });
    if (failing) throw store::StoreError("postgres: cannot connect");
  }
  void hang() {
    std::lock_guard lock(mu_);
    hanging_ = true;
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      hanging_ = false;
    }
    cv_.notify_all();
  }
  std::atomic<int> pings{0};
  std::atomic<bool> failing{false};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool hanging_ = false;
};

TEST(Readiness, ReadyWhileTheDatabaseAnswersAndNotWhenItFails) {
  FakeHealth db;
  FakeClock clock;
  Readiness readiness(db, clock);
  EXPECT_TRUE(readiness.ready());
  db.failing = true;
  clock.set_ms(clock.now_ms() + 1000);
  EXPECT_FALSE(readiness.ready());
  db.failing = false;
  clock.set_ms(clock.now_ms() + 1000);
  EXPECT_TRUE(readiness.ready());
  EXPECT_EQ(db.pings.load(), 3);
}

// Every probe within a second of the last ping gets its answer; the first one after asks again.
TEST(Readiness, AProbeStormCostsOnePingPerSecond) {
  FakeHealth db;
  FakeClock clock;
  Readiness readiness(db, clock);
  std::vector<std::thread> probes;
  std::atomic<int> ready{0};
  for (int t = 0; t < 16; ++t) {
    probes.emplace_back([&] {
      for (int i = 0; i < 50; ++i) ready += readiness.ready() ? 1 : 0;
    });
  }
  for (auto& p : probes) p.join();
  EXPECT_EQ(ready.load(), 16 * 50);
  EXPECT_EQ(db.pings.load(), 1);

  clock.set_ms(clock.now_ms() + 999);
  db.failing = true;
  EXPECT_TRUE(readiness.ready()) << "the answer is reused for a second";
  EXPECT_EQ(db.pings.load(), 1);
  clock.set_ms(clock.now_ms() + 1);
  EXPECT_FALSE(readiness.ready()) << "a second on, the database is asked again";
  EXPECT_EQ(db.pings.load(), 2);
}

// A ping that hangs (a database that accepts connections and never answers) makes every probe
// answer "unavailable" once the timeout has passed, and no probe starts another ping meanwhile.
TEST(Readiness, AHangingPingIsUnavailableWithinTheTimeoutAndStartsNoMorePings) {
  FakeHealth db;
  FakeClock clock;
  Readiness readiness(db, clock, {1000, milliseconds(100)});
  db.hang();
  std::vector<std::thread> probes;
  std::atomic<int> ready{0};
  std::atomic<int64_t> slowest_ms{0};
  for (int t = 0; t < 8; ++t) {
    probes.emplace_back([&] {
      for (int i = 0; i < 3; ++i) {
        const auto start = steady_clock::now();
        ready += readiness.ready() ? 1 : 0;
        const int64_t ms =
            std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count();
        int64_t seen = slowest_ms.load();
        while (ms > seen && !slowest_ms.compare_exchange_weak(seen, ms)) {
        }
      }
    });
  }
  for (auto& p : probes) p.join();
  EXPECT_EQ(ready.load(), 0);
  EXPECT_LT(slowest_ms.load(), 1000) << "a probe waited far beyond the 100 ms timeout";
  EXPECT_EQ(db.pings.load(), 1);
  db.release();
  // The ping that hung answers at last, and probes get its answer (each waits 100 ms at most, so
  // a slow machine may need a few).
  const auto deadline = steady_clock::now() + std::chrono::seconds(10);
  bool back = false;
  while (!back && steady_clock::now() < deadline) back = readiness.ready();
  EXPECT_TRUE(back);
  EXPECT_EQ(db.pings.load(), 1);
}

// A clock set back must not make an old answer look fresh for as long as it went back.
TEST(Readiness, AClockSetBackAsksAgain) {
  FakeHealth db;
  FakeClock clock;
  Readiness readiness(db, clock);
  EXPECT_TRUE(readiness.ready());
  db.failing = true;
  clock.set_ms(clock.now_ms() - 3'600'000);
  EXPECT_FALSE(readiness.ready());
}

}  // namespace
}  // namespace latchkey::app
