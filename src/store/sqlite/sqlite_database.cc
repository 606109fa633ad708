#include "store/sqlite/sqlite_database.h"

#include <algorithm>
#include <limits>
#include <thread>

#include "store/sqlite/migrations.h"
#include "store/tables.h"

namespace latchkey::store::sqlite {
namespace {

// Enough readers for every core to read while others wait on a lock; each connection keeps
// its own page cache, so more would cost memory without adding throughput.
std::size_t reader_pool_size() { return std::max(4u, 2 * std::thread::hardware_concurrency()); }

}  // namespace

SqliteDatabase::SqliteDatabase(const std::string& path) {
  auto conn = std::make_unique<Connection>(path);
  migrate(*conn);
  if (path == ":memory:") {
    memory_ = std::move(conn);
    load_last_token_id();
    return;
  }
  // The writer keeps the hot index pages of the token table in memory (sqlite's default cache
  // is 2 MiB); 64 MiB holds the inner pages of a table of millions of tokens.
  conn->exec("PRAGMA cache_size=-65536");
  checkpointer_ = std::make_unique<Checkpointer>(path);
  checkpointer_->attach(*conn);
  writer_ = std::make_unique<GroupCommit>(std::move(conn));
  readers_ = std::make_unique<ReaderPool>(path, reader_pool_size());
  load_last_token_id();
}

SqliteDatabase::~SqliteDatabase() = default;

void SqliteDatabase::write_work(const std::function<void(Connection&)>& work) {
  if (!memory_) return writer_->run(work);
  MutexLock lock(memory_mu_);
  Transaction tx(*memory_);
  work(*memory_);
  tx.commit();
}

int SqliteDatabase::update_count(const char* sql, const std::string& key) {
  if (key.empty()) return 0;
  int64_t n = write([&](Connection& conn) {
    conn.prepare(sql).bind_text(1, key).run();
    return conn.changes();
  });
  // The interface counts in int; clamp rather than wrap for absurdly large revocations.
  return n > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                             : static_cast<int>(n);
}

void SqliteDatabase::ping() {
  // Reads the schema from the file (or the in-memory database) as every request's read would.
  read([](Connection& conn) {
    Statement st = conn.prepare("SELECT count(*) FROM sqlite_master");
    if (!st.step()) throw StoreError("sqlite: reading the schema returned nothing");
  });
}

std::vector<TableRows> SqliteDatabase::count_rows() {
  return read([&](Connection& conn) -> std::vector<TableRows> {
    Statement st = conn.prepare(count_rows_sql());
    if (!st.step()) throw StoreError("sqlite: counting rows returned nothing");
    std::vector<TableRows> out;
    for (std::size_t i = 0; i < kTableNames.size(); ++i) {
      out.push_back({std::string(kTableNames[i]), st.column_int(static_cast<int>(i))});
    }
    return out;
  });
}

}  // namespace latchkey::store::sqlite
