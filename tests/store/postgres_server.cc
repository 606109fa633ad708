#include "postgres_server.h"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <random>

#include "store/postgres/postgres_connection.h"

namespace latchkey::store::test {

std::optional<std::string> postgres_server_url() {
  const char* url = getenv("LATCHKEY_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

std::string with_dbname(const std::string& url, const std::string& dbname) {
  // postgresql://[userinfo@][hosts][/dbname][?query]
  const std::size_t scheme = url.find("://");
  const std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const std::size_t query = url.find('?', start);
  const std::size_t slash = url.find('/', start);
  const std::size_t authority_end = slash < query ? slash : query;
  std::string out = url.substr(0, authority_end == std::string::npos ? url.size() : authority_end);
  out += "/" + dbname;
  if (query != std::string::npos) out += url.substr(query);
  return out;
}

TempPostgresDatabase::TempPostgresDatabase(const std::string& server_url, Kind kind)
    : server_url_(server_url), kind_(kind) {
  // ctest runs tests in parallel processes: the pid tells processes apart, the counter tests
  // within one, and the random part a pid reused by a later run whose database was left behind.
  static std::atomic<int> counter{0};
  std::random_device rd;
  name_ = "lk_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
          std::to_string(rd() % 1000000);
  postgres::Connection admin(server_url_);
  if (kind_ == Kind::database) {
    admin.exec("CREATE DATABASE " + name_);
    url_ = with_dbname(server_url_, name_);
  } else {
    admin.exec("CREATE SCHEMA " + name_);
    // options=-c search_path=NAME, percent-encoded as a URI query value.
    url_ = server_url_ + (server_url_.find('?') == std::string::npos ? "?" : "&") +
           "options=-c%20search_path%3D" + name_;
  }
}

TempPostgresDatabase::~TempPostgresDatabase() {
  try {
    postgres::Connection admin(server_url_);
    if (kind_ == Kind::database) {
      admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } else {
      admin.exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    }
  } catch (...) {
    // Left behind on a server that went away; the name is never used again.
  }
}

}  // namespace latchkey::store::test
