// The SQLite writer's group commit: concurrent writes share transactions, every
// caller learns the fate of its own work, and what a caller was told is
// committed is on disk.
#include "store/sqlite/group_commit.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/stores.h"
#include "temp_dir.h"

namespace latchkey::store::sqlite {
namespace {

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Connection setup(path_);
    setup.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
  }
  int64_t count(const std::string& where = "1") {
    Connection reader(path_, Connection::Access::read_only);
    return reader.query_int("SELECT count(*) FROM t WHERE " + where);
  }
  static void insert(Connection& c, const std::string& k, int64_t v) {
    c.prepare("INSERT INTO t (k, v) VALUES (?1, ?2)").bind_text(1, k).bind_int(2, v).run();
  }

  test::TempDir dir_;
  const std::string path_ = dir_.file("gc.db");
};

TEST_F(GroupCommitTest, WritesQueuedDuringACommitShareTheNextOne) {
  constexpr int kWaiting = 31;
  GroupCommit writer(std::make_unique<Connection>(path_));
  std::atomic<bool> started{false};
  // The first write holds the writer (as a slow fsync would) while the others
  // queue up.
  std::thread slow([&] {
    writer.run([&](Connection& c) {
      started = true;
      insert(c, "slow", 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    });
  });
  while (!started) std::this_thread::yield();
  std::vector<std::thread> threads;
  for (int t = 0; t < kWaiting; ++t) {
    threads.emplace_back(
        [&, t] { writer.run([&](Connection& c) { insert(c, std::to_string(t), t); }); });
  }
  slow.join();
  for (auto& th : threads) th.join();
  EXPECT_EQ(count(), kWaiting + 1);
  EXPECT_EQ(writer.writes(), static_cast<uint64_t>(kWaiting + 1));
  // One commit per write would be 32; the queued writes ride on one (or, if a
  // thread was slow to queue, a few) more.
  EXPECT_LE(writer.commits(), 4u) << writer.commits() << " commits for 32 writes";
}

TEST_F(GroupCommitTest, ManyConcurrentWritersAllLand) {
  constexpr int kThreads = 32;
  constexpr int kEach = 40;
  GroupCommit writer(std::make_unique<Connection>(path_));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        writer.run(
            [&](Connection& c) { insert(c, std::to_string(t) + "-" + std::to_string(i), t); });
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(count(), kThreads * kEach);
  EXPECT_EQ(writer.writes(), static_cast<uint64_t>(kThreads * kEach));
}

TEST_F(GroupCommitTest, AFailingWriteIsUndoneAloneAndItsCallerGetsTheError) {
  GroupCommit writer(std::make_unique<Connection>(path_));
  writer.run([&](Connection& c) { insert(c, "taken", 1); });
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      try {
        writer.run([&](Connection& c) {
          insert(c, "ok-" + std::to_string(t), 2);
          // Half of them write a row and then hit a constraint: that row must
          // vanish too.
          if (t % 2 == 0) insert(c, "taken", 3);
        });
      } catch (const StoreError&) {
        failed++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 8);
  EXPECT_EQ(count("k LIKE 'ok-%'"), 8);
  EXPECT_EQ(count("k = 'taken' AND v = 1"), 1);
}

TEST_F(GroupCommitTest, ResultsAndExceptionsOfTheWorkReachTheCaller) {
  GroupCommit writer(std::make_unique<Connection>(path_));
  int64_t changed = -1;
  writer.run([&](Connection& c) {
    insert(c, "a", 1);
    changed = c.changes();
  });
  EXPECT_EQ(changed, 1);
  EXPECT_THROW(writer.run([](Connection&) { throw std::logic_error("bug"); }), std::logic_error);
  EXPECT_EQ(count(), 1);
}

// Holds the writer inside a piece of work until release(), so that what is submitted meanwhile
// forms the next batch, in submission order. Released at the latest when it goes out of scope
// (before the writer, declared first), so a failed assertion cannot leave the writer's thread
// waiting forever; the held work shares the flags, so it never reads a destroyed object.
class HeldWriter {
 public:
  explicit HeldWriter(GroupCommit& writer) : flags_(std::make_shared<Flags>()) {
    writer.submit(
        [flags = flags_](Connection&) {
          flags->held = true;
          while (!flags->released) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        },
        [](std::exception_ptr) {});
    while (!flags_->held) std::this_thread::yield();
  }
  ~HeldWriter() { release(); }
  HeldWriter(const HeldWriter&) = delete;
  HeldWriter& operator=(const HeldWriter&) = delete;
  void release() { flags_->released = true; }

 private:
  struct Flags {
    std::atomic<bool> held{false};
    std::atomic<bool> released{false};
  };
  std::shared_ptr<Flags> flags_;
};

struct Outcome {
  std::atomic<bool> settled{false};
  std::exception_ptr error;
};

GroupCommit::Done record(Outcome& o) {
  return [&o](std::exception_ptr e) {
    o.error = std::move(e);
    o.settled = true;
  };
}

void wait_for(const Outcome& o) {
  while (!o.settled) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TEST_F(GroupCommitTest, ABatchWithoutFailuresRunsEachWriteOnceInOneCommit) {
  GroupCommit writer(std::make_unique<Connection>(path_));
  HeldWriter hold(writer);
  const uint64_t commits_before = writer.commits();
  std::atomic<int> runs{0};
  std::vector<Outcome> outcomes(8);
  for (int i = 0; i < 8; ++i) {
    writer.submit(
        [&, i](Connection& c) {
          ++runs;
          insert(c, std::to_string(i).insert(0, 1, 'k'), i);
        },
        record(outcomes[static_cast<std::size_t>(i)]));
  }
  hold.release();
  for (auto& o : outcomes) wait_for(o);
  for (auto& o : outcomes) EXPECT_FALSE(o.error);
  EXPECT_EQ(runs.load(), 8);
  EXPECT_EQ(count("k LIKE 'k%'"), 8);
  // The held write's own commit, then one for the eight.
  EXPECT_EQ(writer.commits() - commits_before, 2u);
}

TEST_F(GroupCommitTest, AFailureInABatchRunsTheOthersAgainAndTheyKeepOnlyTheirLastRun) {
  GroupCommit writer(std::make_unique<Connection>(path_));
  HeldWriter hold(writer);
  std::atomic<int> runs_a{0}, runs_b{0}, runs_c{0};
  int64_t seen_by_a = -1;  // set by each run of a's work, as the contract asks
  Outcome a, b, c;
  writer.submit(
      [&](Connection& conn) {
        ++runs_a;
        insert(conn, "a", 1);
        seen_by_a = conn.query_int("SELECT count(*) FROM t");
      },
      record(a));
  writer.submit(
      [&](Connection& conn) {
        ++runs_b;
        insert(conn, "b", 2);
        throw std::runtime_error("b fails after writing");
      },
      record(b));
  writer.submit(
      [&](Connection& conn) {
        ++runs_c;
        insert(conn, "c", 3);
      },
      record(c));
  hold.release();
  wait_for(a);
  wait_for(b);
  wait_for(c);
  EXPECT_FALSE(a.error);
  ASSERT_TRUE(b.error);
  EXPECT_THROW(std::rethrow_exception(b.error), std::runtime_error);
  EXPECT_FALSE(c.error);
  // The first run of the batch stopped at b and was undone; the second ran all three, each in
  // its own savepoint, so only b's row is missing and a's output is from the run that stuck.
  EXPECT_EQ(runs_a.load(), 2);
  EXPECT_EQ(runs_b.load(), 2);
  EXPECT_EQ(runs_c.load(), 1);
  EXPECT_EQ(count("k IN ('a', 'c')"), 2);
  EXPECT_EQ(count("k = 'b'"), 0);
  EXPECT_EQ(seen_by_a, 1);
}

TEST_F(GroupCommitTest, ALoneFailingWriteIsUndoneWithoutARerun) {
  GroupCommit writer(std::make_unique<Connection>(path_));
  std::atomic<int> runs{0};
  EXPECT_THROW(writer.run([&](Connection& c) {
    ++runs;
    insert(c, "x", 1);
    throw std::runtime_error("fails");
  }),
               std::runtime_error);
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(count(), 0);
  writer.run([&](Connection& c) { insert(c, "y", 1); });
  EXPECT_EQ(count(), 1);
}

}  // namespace
}  // namespace latchkey::store::sqlite
