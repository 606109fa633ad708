// open_database(): the --db URL forms of docs/behaviour.md §2.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "postgres_server.h"
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

// Both schemes name the PostgreSQL backend: what fails here is the connection, reported without
// the password the URL carries.
TEST(OpenDatabase, ReportsAnUnreachablePostgresServerWithoutItsPassword) {
  for (const char* url : {"postgresql://u:secretpw@/latchkey?host=/nonexistent-dir-latchkey",
                          "postgres://u:secretpw@/latchkey?host=/nonexistent-dir-latchkey"}) {
    std::string msg = error_of(url);
    EXPECT_NE(msg.find("cannot connect"), std::string::npos) << url << ": " << msg;
    EXPECT_EQ(msg.find("secretpw"), std::string::npos) << "echoed a password: " << msg;
  }
}

TEST(OpenDatabase, RefusesAnInvalidPoolSetting) {
  for (const char* url : {"postgresql://u@/db?host=/nonexistent-dir-latchkey&pool_size=0",
                          "postgresql://u@/db?pool_size=many&host=/nonexistent-dir-latchkey",
                          "postgresql://u@/db?host=/nonexistent-dir-latchkey&pool_wait_ms=-5",
                          "postgresql://u@/db?host=/nonexistent-dir-latchkey&writers=0"}) {
    std::string msg = error_of(url);
    EXPECT_NE(msg.find("must be a positive integer"), std::string::npos) << url << ": " << msg;
  }
}

TEST(OpenDatabase, RefusesAnInvalidStatementTimeout) {
  for (const char* url :
       {"postgresql://u@/db?host=/nonexistent-dir-latchkey&statement_timeout_ms=-1",
        "postgresql://u@/db?statement_timeout_ms=5s&host=/nonexistent-dir-latchkey"}) {
    std::string msg = error_of(url);
    EXPECT_NE(msg.find("statement_timeout_ms must be 0 or a positive integer"), std::string::npos)
        << url << ": " << msg;
  }
}

TEST(OpenDatabase, OpensAndMigratesAPostgresDatabase) {
  auto server = test::postgres_server_url();
  if (!server) GTEST_SKIP() << "LATCHKEY_TEST_POSTGRES_URL is not set";
  test::TempPostgresDatabase empty(*server, test::TempPostgresDatabase::Kind::database);
  for (const char* scheme : {"postgresql://", "postgres://"}) {
    std::string url = empty.url();
    url.replace(0, url.find("://") + 3, scheme);
    auto db = open_database(url + (url.find('?') == std::string::npos ? "?" : "&") +
                            "pool_size=2&pool_wait_ms=1000&writers=3");
    if (!db->default_org()) db->create_org({"00D000000000001", "Acme", 1});
    EXPECT_EQ(db->default_org()->name, "Acme");
  }
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
