// The SQLite writer's group commit: concurrent writes share transactions, every
// caller learns the fate of its own work, and what a caller was told is
// committed is on disk.
#include "store/sqlite/group_commit.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/stores.h"

namespace latchkey::store::sqlite {
namespace {

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "latchkey-gc-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "gc.db").string();
    Connection setup(path_);
    setup.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  int64_t count(const std::string& where = "1") {
    Connection reader(path_, Connection::Access::read_only);
    return reader.query_int("SELECT count(*) FROM t WHERE " + where);
  }
  static void insert(Connection& c, const std::string& k, int64_t v) {
    c.prepare("INSERT INTO t (k, v) VALUES (?1, ?2)").bind_text(1, k).bind_int(2, v).run();
  }

  std::filesystem::path dir_;
  std::string path_;
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

}  // namespace
}  // namespace latchkey::store::sqlite
