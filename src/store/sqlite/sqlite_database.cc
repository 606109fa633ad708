#include "store/sqlite/sqlite_database.h"

#include <limits>

#include "store/sqlite/migrations.h"

namespace latchkey::store::sqlite {

SqliteDatabase::SqliteDatabase(const std::string& path) : conn_(path) { migrate(conn_); }

int SqliteDatabase::update_count(const char* sql, const std::string& key) {
  if (key.empty()) return 0;
  std::lock_guard lock(mu_);
  conn_.prepare(sql).bind_text(1, key).run();
  int64_t n = conn_.changes();
  // The interface counts in int; clamp rather than wrap for absurdly large revocations.
  return n > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                             : static_cast<int>(n);
}

}  // namespace latchkey::store::sqlite
