// open_database(): the --db URL forms of docs/behaviour.md §2.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "store/open.h"

namespace latchkey::store {
namespace {

std::string error_of(const std::string& url) {
  try {
    auto db = open_database(url);
  } catch (const StoreError& e) {
    return e.what();
  }
  return "";
}

TEST(OpenDatabase, OpensInMemorySqlite) {
  auto db = open_database("sqlite::memory:");
  ASSERT_NE(db, nullptr);
  db->create_org({"00D000000000001", "Acme", 1});
  EXPECT_TRUE(db->default_org().has_value());
  // Each in-memory handle is its own database.
  EXPECT_FALSE(open_database("sqlite::memory:")->default_org().has_value());
}

TEST(OpenDatabase, CreatesAMissingFileAtAnAbsolutePath) {
  std::string dir = (std::filesystem::temp_directory_path() / "latchkey-open-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  auto path = std::filesystem::path(dir) / "new.db";
  {
    auto db = open_database("sqlite:" + path.string());
    db->create_org({"00D000000000001", "Acme", 1});
  }
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(open_database("sqlite:" + path.string())->default_org()->name, "Acme");
  std::filesystem::remove_all(dir);
}

TEST(OpenDatabase, ResolvesARelativePathAgainstTheWorkingDirectory) {
  std::string dir = (std::filesystem::temp_directory_path() / "latchkey-open-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  auto old = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  { auto db = open_database("sqlite:relative.db"); }
  std::filesystem::current_path(old);
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir) / "relative.db"));
  std::filesystem::remove_all(dir);
}

TEST(OpenDatabase, RefusesPostgresUntilItIsBuilt) {
  EXPECT_EQ(error_of("postgresql://u:pw@db:5432/latchkey"),
            "the PostgreSQL backend is not built yet");
  EXPECT_EQ(error_of("postgres://u@db/latchkey"), "the PostgreSQL backend is not built yet");
}

TEST(OpenDatabase, RefusesUnknownFormsNamingTheAcceptedOnes) {
  for (const char* url : {"", "latchkey.db", "mysql://u:secret@h/db", "SQLITE:x.db", "sqlite"}) {
    std::string msg = error_of(url);
    EXPECT_NE(msg.find("sqlite:PATH"), std::string::npos) << url << ": " << msg;
    EXPECT_NE(msg.find("postgresql://"), std::string::npos) << url << ": " << msg;
    EXPECT_EQ(msg.find("secret"), std::string::npos) << "echoed a password: " << msg;
  }
}

TEST(OpenDatabase, RefusesSqliteWithoutAPath) { EXPECT_NE(error_of("sqlite:"), ""); }

TEST(OpenDatabase, ReportsAnUnopenablePathAsStoreError) {
  EXPECT_NE(error_of("sqlite:/nonexistent-dir-latchkey/sub/x.db"), "");
}

}  // namespace
}  // namespace latchkey::store
