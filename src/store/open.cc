#include "store/open.h"

#include <charconv>
#include <chrono>
#include <string_view>
#include <vector>

#include "store/postgres/postgres_database.h"
#include "store/sqlite/sqlite_database.h"

namespace latchkey::store {
namespace {

// A positive integer query value of ours; `name` is for the error (the URL is never echoed).
int64_t positive(std::string_view name, std::string_view value) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || p != value.data() + value.size() || n < 1) {
    throw StoreError("--db: " + std::string(name) + " must be a positive integer");
  }
  return n;
}

// A non-negative integer query value of ours (0 turns the setting off).
int64_t non_negative(std::string_view name, std::string_view value) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || p != value.data() + value.size() || n < 0) {
    throw StoreError("--db: " + std::string(name) + " must be 0 or a positive integer");
  }
  return n;
}

// Takes latchkey's own query parameters (pool_size, pool_wait_ms, statement_timeout_ms, writers)
// out of a PostgreSQL URL and leaves the rest to libpq, which refuses parameters it does not
// know.
std::unique_ptr<Database> open_postgres(std::string_view url) {
  postgres::PostgresDatabase::Options options;
  const std::size_t q = url.find('?');
  std::string conninfo(url.substr(0, q));
  if (q != std::string_view::npos) {
    std::string rest;
    std::string_view query = url.substr(q + 1);
    while (!query.empty()) {
      const std::size_t amp = query.find('&');
      std::string_view param = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      const std::size_t eq = param.find('=');
      std::string_view key = param.substr(0, eq);
      std::string_view value =
          eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
      if (key == "pool_size") {
        options.pool_size = static_cast<std::size_t>(positive(key, value));
      } else if (key == "pool_wait_ms") {
        options.pool_wait = std::chrono::milliseconds(positive(key, value));
      } else if (key == "statement_timeout_ms") {
        options.statement_timeout = std::chrono::milliseconds(non_negative(key, value));
      } else if (key == "writers") {
        options.writers = static_cast<std::size_t>(positive(key, value));
      } else if (!param.empty()) {
        rest += rest.empty() ? "?" : "&";
        rest += param;
      }
    }
    conninfo += rest;
  }
  return std::make_unique<postgres::PostgresDatabase>(conninfo, options);
}

}  // namespace

std::unique_ptr<Database> open_database(const std::string& url) {
  std::string_view u = url;
  if (u.starts_with("sqlite:")) {
    std::string_view path = u.substr(7);
    if (path.empty()) throw StoreError("--db 'sqlite:' needs a path, e.g. sqlite:latchkey.db");
    return std::make_unique<sqlite::SqliteDatabase>(std::string(path));
  }
  if (u.starts_with("postgresql://") || u.starts_with("postgres://")) return open_postgres(u);
  // The URL is not echoed: a mistyped PostgreSQL URL may carry a password.
  throw StoreError(
      "unsupported --db URL; expected sqlite:PATH, sqlite::memory: or "
      "postgresql://user[:password]@host[:port]/dbname");
}

}  // namespace latchkey::store
