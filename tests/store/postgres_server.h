// The PostgreSQL server the store tests may use: LATCHKEY_TEST_POSTGRES_URL, a libpq URI of a
// server whose user may create databases and schemas (`make test` starts one with
// scripts/pg-cluster.sh). Each test gets an empty database of its own, dropped afterwards and
// named uniquely across the processes ctest runs at once: a database, or, cheaper, a schema of
// the server's database that the URL's search_path makes the only one latchkey sees (on a
// server that fsyncs, CREATE and DROP DATABASE cost a few hundred milliseconds a test).
#pragma once

#include <optional>
#include <string>

namespace latchkey::store::test {

// The server URL, if the environment names one.
[[nodiscard]] std::optional<std::string> postgres_server_url();

// `url` with its database name replaced by `dbname` (the query, such as ?host=, is kept).
[[nodiscard]] std::string with_dbname(const std::string& url, const std::string& dbname);

// A new empty database on the server (Kind::database), or a new empty schema that the URL puts
// alone on the search_path (Kind::schema); dropped, with whatever is still connected to it, when
// the object goes out of scope.
class TempPostgresDatabase {
 public:
  enum class Kind { database, schema };
  explicit TempPostgresDatabase(const std::string& server_url, Kind kind = Kind::schema);
  ~TempPostgresDatabase();
  TempPostgresDatabase(const TempPostgresDatabase&) = delete;
  TempPostgresDatabase& operator=(const TempPostgresDatabase&) = delete;

  // Its URL, for open_database().
  [[nodiscard]] const std::string& url() const { return url_; }
  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  std::string server_url_;
  Kind kind_;
  std::string name_;
  std::string url_;
};

}  // namespace latchkey::store::test
