// WAL checkpoints run beside the writer: a thread copies the WAL back into the database file
// and the writer finishes the job at a commit, so the WAL starts over instead of growing and no
// COMMIT pays for copying the whole WAL.
#include "store/sqlite/checkpointer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "store/sqlite/sqlite_connection.h"
#include "temp_dir.h"

namespace latchkey::store::sqlite {
namespace {

class CheckpointerTest : public ::testing::Test {
 protected:
  std::uintmax_t wal_bytes() const {
    std::error_code ec;
    auto n = std::filesystem::file_size(path_ + "-wal", ec);
    return ec ? 0 : n;
  }

  test::TempDir dir_;
  const std::string path_ = dir_.file("latchkey.db");
};

constexpr std::uintmax_t kFrameBytes = 4096 + 24;  // a page and its frame header

TEST_F(CheckpointerTest, TheWalIsCopiedBackAndStartsOverUnderContinuousWrites) {
  constexpr int kRows = 12'000;  // a page each: about twelve times the checkpoint threshold
  std::uintmax_t largest_wal = 0;
  uint64_t background = 0;
  uint64_t by_writer = 0;
  {
    Connection writer(path_);
    // Only what is checkpointed matters here, not surviving power loss: commits without an
    // fsync each keep the test quick.
    writer.exec("PRAGMA synchronous=OFF");
    writer.exec("CREATE TABLE t (x BLOB)");
    Checkpointer checkpointer(path_);
    checkpointer.attach(writer);
    for (int i = 0; i < kRows; ++i) {
      writer.exec("INSERT INTO t VALUES (randomblob(3000))");
      if (i % 100 == 0) largest_wal = std::max(largest_wal, wal_bytes());
    }
    background = checkpointer.background_passes();
    by_writer = checkpointer.writer_passes();
    EXPECT_GE(background, 1u) << "the thread never copied the WAL back";
    EXPECT_GE(by_writer, 1u) << "the writer never finished a checkpoint";
  }
  // Without checkpoints the WAL would hold every row (about 50 MB); the writer's backstop is
  // the most it may reach.
  EXPECT_LE(largest_wal, (Checkpointer::kWriterFrames + 200) * kFrameBytes)
      << background << " background and " << by_writer << " writer checkpoints";
  Connection reopened(path_);
  EXPECT_EQ(reopened.query_int("SELECT count(*) FROM t"), kRows);
}

TEST_F(CheckpointerTest, ASmallWalIsLeftAlone) {
  Connection writer(path_);
  writer.exec("CREATE TABLE t (x BLOB)");
  Checkpointer checkpointer(path_);
  checkpointer.attach(writer);
  for (int i = 0; i < 50; ++i) writer.exec("INSERT INTO t VALUES (randomblob(3000))");
  EXPECT_EQ(checkpointer.background_passes(), 0u);
  EXPECT_EQ(checkpointer.writer_passes(), 0u);
}

}  // namespace
}  // namespace latchkey::store::sqlite
