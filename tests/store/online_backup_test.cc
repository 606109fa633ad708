// store/sqlite/online_backup.h: a copy of a database file taken while another connection keeps
// writing to it, as `latchkey backup` does beside a running server.
#include "store/sqlite/online_backup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "conformance.h"
#include "store/sqlite/sqlite_database.h"
#include "temp_dir.h"

namespace latchkey::store::sqlite {
namespace {

using store::testing::sample_token;

class OnlineBackup : public ::testing::Test {
 protected:
  test::TempDir dir_;
  const std::string path_ = dir_.file("latchkey.db");
  const std::string copy_ = dir_.file("backup.db");
};

// Saves `n` tokens, each with its own hash, in batches (enough pages for a copy of many steps).
std::vector<Token> save_tokens(SqliteDatabase& db, const std::string& prefix, int n) {
  std::vector<Token> saved;
  std::vector<Token> batch;
  for (int i = 0; i < n; ++i) {
    Token t = sample_token(prefix + std::to_string(i), TokenKind::access);
    t.id = db.allocate_id();
    batch.push_back(t);
    saved.push_back(t);
    if (batch.size() == 100) {
      db.save_tokens(batch);
      batch.clear();
    }
  }
  if (!batch.empty()) db.save_tokens(batch);
  return saved;
}

TEST_F(OnlineBackup, CopiesEveryCommittedRowWhileTheDatabaseIsWrittenTo) {
  SqliteDatabase db(path_);
  db.create_org(store::testing::sample_org("00D000000000001", 1));
  const std::vector<Token> before = save_tokens(db, "before-", 3000);

  // Another writer commits all along the copy, which takes one page per step: without the
  // snapshot the copy holds, every commit would restart it and it would never finish.
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      Token t = sample_token("during-" + std::to_string(i), TokenKind::access);
      t.id = db.allocate_id();
      db.save_tokens({t});
      ++written;
    }
  });
  int calls = 0;
  BackupProgress last;
  BackupProgress done;
  try {
    done = online_backup(
        path_, copy_,
        [&](const BackupProgress& p) {
          // A copy that starts over under the writer's commits would never end: stop it here.
          if (p.pages_copied < last.pages_copied) throw std::runtime_error("the copy started over");
          ++calls;
          last = p;
        },
        BackupOptions{1, std::chrono::milliseconds(1)});
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what() << " after " << last.pages_copied << " of " << last.pages_total
                  << " pages";
  }
  stop = true;
  writer.join();
  ASSERT_FALSE(HasFailure());

  EXPECT_GT(written.load(), 0);
  EXPECT_GT(calls, 10);
  EXPECT_EQ(done.pages_copied, done.pages_total);
  EXPECT_EQ(last.pages_copied, last.pages_total);
  EXPECT_EQ(std::filesystem::file_size(copy_),
            static_cast<std::uintmax_t>(done.pages_total * done.page_size));
  struct stat st {};
  ASSERT_EQ(::stat(copy_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // The copy is a database of its own, holding every token committed before it began.
  SqliteDatabase copy(copy_);
  EXPECT_EQ(copy.default_org()->id, "00D000000000001");
  for (const Token& t : {before.front(), before[before.size() / 2], before.back()}) {
    auto found = copy.find_token(t.ref());
    ASSERT_TRUE(found.has_value()) << t.token_hash;
    EXPECT_EQ(*found, t);
  }
}

TEST_F(OnlineBackup, RefusesAnExistingTargetAndLeavesItAsItWas) {
  { SqliteDatabase db(path_); }
  { std::ofstream(copy_) << "an earlier backup"; }
  EXPECT_THROW(online_backup(path_, copy_, {}), StoreError);
  std::ifstream in(copy_);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "an earlier backup");
}

TEST_F(OnlineBackup, AMissingSourceIsAnErrorAndCreatesNothing) {
  EXPECT_THROW(online_backup(path_, copy_, {}), StoreError);
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_FALSE(std::filesystem::exists(copy_));
}

}  // namespace
}  // namespace latchkey::store::sqlite
