#include "store/open.h"

#include <string_view>

#include "store/sqlite/sqlite_database.h"

namespace latchkey::store {

std::unique_ptr<Database> open_database(const std::string& url) {
  std::string_view u = url;
  if (u.starts_with("sqlite:")) {
    std::string_view path = u.substr(7);
    if (path.empty()) throw StoreError("--db 'sqlite:' needs a path, e.g. sqlite:latchkey.db");
    return std::make_unique<sqlite::SqliteDatabase>(std::string(path));
  }
  if (u.starts_with("postgresql://") || u.starts_with("postgres://")) {
    throw StoreError("the PostgreSQL backend is not built yet");
  }
  // The URL is not echoed: a mistyped PostgreSQL URL may carry a password.
  throw StoreError(
      "unsupported --db URL; expected sqlite:PATH, sqlite::memory: or "
      "postgresql://user[:password]@host[:port]/dbname");
}

}  // namespace latchkey::store
