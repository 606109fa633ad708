// The PostgreSQL writer's group commit (store/postgres/group_commit.h) over a table of the test's
// schema, and the TEXT[] encoding of store/postgres/postgres_array.h. The tests that need a server
// are skipped, saying so, when LATCHKEY_TEST_POSTGRES_URL is not set.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "postgres_fixture.h"
#include "store/postgres/group_commit.h"
#include "store/postgres/postgres_array.h"
#include "store/postgres/postgres_connection.h"

namespace latchkey::store::postgres {
namespace {

using std::chrono::steady_clock;

// The writer with a connection of its own (group_commit.h), over a table of the test's schema.
class PostgresGroupCommit : public test::PostgresTableTest {
 protected:
  static void insert(Connection& c, const std::string& k, int64_t v) {
    c.run("INSERT INTO t (k, v) VALUES ($1, $2)", Params().text(k).int64(v));
  }

  // Submits `work` and blocks until its batch settled; returns the error it settled with.
  static std::exception_ptr run(GroupCommit& writer, GroupCommit::Work work) {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::exception_ptr error;
    writer.submit(std::move(work), [&](std::exception_ptr e) {
      std::lock_guard lock(mu);
      error = std::move(e);
      done = true;
      cv.notify_one();
    });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
    return error;
  }
};

TEST_F(PostgresGroupCommit, WritesQueuedDuringACommitShareTheNextOne) {
  constexpr int kWaiting = 20;
  GroupCommit writer(url_);
  std::atomic<bool> started{false};
  // The first write holds the writer (as a slow disk would) while the others queue up.
  std::thread slow([&] {
    EXPECT_EQ(run(writer,
                  [&](Connection& c) {
                    started = true;
                    insert(c, "slow", 0);
                    c.exec("SELECT pg_sleep(0.3)");
                  }),
              nullptr);
  });
  while (!started) std::this_thread::yield();
  std::vector<std::thread> threads;
  for (int t = 0; t < kWaiting; ++t) {
    threads.emplace_back([&, t] {
      EXPECT_EQ(run(writer, [&, t](Connection& c) { insert(c, std::to_string(t), t); }), nullptr);
    });
  }
  slow.join();
  for (auto& th : threads) th.join();
  EXPECT_EQ(count(), kWaiting + 1);
  EXPECT_EQ(writer.writes(), static_cast<uint64_t>(kWaiting + 1));
  // One commit per write would be 21; the queued writes ride on one (or, if a thread was slow
  // to queue, a few) more.
  EXPECT_LE(writer.commits(), 4u) << writer.commits() << " commits for 21 writes";
}

TEST_F(PostgresGroupCommit, AFailingWriteIsUndoneAloneAndItsCallerGetsTheError) {
  GroupCommit writer(url_);
  ASSERT_EQ(run(writer, [&](Connection& c) { insert(c, "taken", 1); }), nullptr);
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      std::exception_ptr error = run(writer, [&, t](Connection& c) {
        insert(c, "ok-" + std::to_string(t), 2);
        // Half of them write a row and then hit a constraint: that row must vanish too.
        if (t % 2 == 0) insert(c, "taken", 3);
      });
      if (error) ++failed;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 8);
  EXPECT_EQ(count("k LIKE 'ok-%'"), 8);
  EXPECT_EQ(count("k = 'taken' AND v = 1"), 1);
}

// Writers of several nodes lock the rows their batches use up in one order: keyed work runs
// first, in key order, whatever order it came in; the rest keeps its order.
TEST_F(PostgresGroupCommit, KeyedWorkRunsFirstInKeyOrderAndTheRestAsItCame) {
  GroupCommit writer(url_);
  std::mutex mu;
  std::condition_variable cv;
  bool holding = false;
  bool release = false;
  int settled = 0;
  std::vector<std::string> ran;
  // The first write holds the writer while the others queue up for the next batch.
  std::thread first([&] {
    EXPECT_EQ(run(writer,
                  [&](Connection&) {
                    std::unique_lock lock(mu);
                    holding = true;
                    cv.notify_all();
                    cv.wait(lock, [&] { return release; });
                  }),
              nullptr);
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return holding; });
  }
  for (const auto& [name, key] : std::vector<std::pair<std::string, std::string>>{
           {"plain-1", ""}, {"key-c", "c"}, {"key-a", "a"}, {"plain-2", ""}, {"key-b", "b"}}) {
    writer.submit(
        [&, name = name](Connection&) {
          std::lock_guard lock(mu);
          ran.push_back(name);
        },
        [&](std::exception_ptr e) {
          EXPECT_EQ(e, nullptr);
          std::lock_guard lock(mu);
          ++settled;
          cv.notify_all();
        },
        key);
  }
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  first.join();
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return settled == 5; }));
  EXPECT_EQ(ran, (std::vector<std::string>{"key-a", "key-b", "key-c", "plain-1", "plain-2"}));
}

// Two writers (two nodes) whose transactions lock two rows in opposite orders deadlock; the
// server cancels one of them. Nothing of it was applied and the other goes on, so its batch is
// run again rather than failed: both callers are told their write is durable, and both
// writes are there once.
TEST_F(PostgresGroupCommit, ATransactionCancelledForADeadlockIsRunAgainRatherThanFailed) {
  Connection setup(url_);
  setup.exec("INSERT INTO t (k, v) VALUES ('a', 0), ('b', 0)");
  GroupCommit one(url_);
  GroupCommit two(url_);
  std::atomic<int> first_locks{0};
  // Locks `first`, waits (on its first run only) until the other writer holds its first row,
  // then locks `second`.
  auto crossing = [&](std::string first, std::string second) {
    auto first_run = std::make_shared<std::atomic<bool>>(true);
    return [&, first, second, first_run](Connection& c) {
      c.run("UPDATE t SET v = v + 1 WHERE k = $1", Params().text(first));
      if (first_run->exchange(false)) {
        ++first_locks;
        const auto deadline = steady_clock::now() + std::chrono::seconds(5);
        while (first_locks < 2 && steady_clock::now() < deadline) std::this_thread::yield();
      }
      c.run("UPDATE t SET v = v + 1 WHERE k = $1", Params().text(second));
    };
  };
  std::exception_ptr error_one;
  std::exception_ptr error_two;
  std::thread a([&] { error_one = run(one, crossing("a", "b")); });
  std::thread b([&] { error_two = run(two, crossing("b", "a")); });
  a.join();
  b.join();
  EXPECT_EQ(error_one, nullptr);
  EXPECT_EQ(error_two, nullptr);
  EXPECT_EQ(count("v = 2"), 2) << "each write is there exactly once";
  // At least one was cancelled. The server may cancel again when a retry takes a row back
  // before the winner does; the pause after a collision makes that rare, not impossible.
  EXPECT_GE(one.contentions() + two.contentions(), 1u) << "a transaction was cancelled";
}

TEST(PostgresArray, RoundTripsAnyStrings) {
  const std::vector<std::vector<std::string>> lists = {
      {},
      {""},
      {"", ""},
      {"api", "refresh_token offline_access"},
      {"say \"hi\"", "back\\slash", "a,b", "{braces}", "NULL", "null", "line\nbreak", "\t"},
      {"caf\xC3\xA9 \xE2\x9C\x93", "\x01\x1f"}};
  for (const auto& list : lists) EXPECT_EQ(decode_text_array(encode_text_array(list)), list);
}

TEST(PostgresArray, DecodesTheServersBareAndQuotedElements) {
  EXPECT_EQ(decode_text_array(R"({api,"a b","","q\"x","back\\slash",x.y})"),
            (std::vector<std::string>{"api", "a b", "", "q\"x", "back\\slash", "x.y"}));
  EXPECT_EQ(decode_text_array("{}"), std::vector<std::string>{});
}

TEST(PostgresArray, RejectsWhatIsNotAOneDimensionalArrayOfStrings) {
  for (const char* bad : {"", "{", "}", "api", "{a,}", "{,a}", "{\"open}", "{NULL}", "{a,Null}",
                          "{{a},{b}}", "[0:1]={a,b}", "{\"a\"b}", "{a b}"}) {
    EXPECT_THROW((void)decode_text_array(bad), StoreError) << bad;
  }
}

}  // namespace
}  // namespace latchkey::store::postgres
