#include "store/sqlite/sqlite_connection.h"

#include <limits>
#include <string>

#include "store/stores.h"

namespace latchkey::store::sqlite {

Statement::~Statement() {
  // The error, if any, was already reported by step(); reset only rearms the statement.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::bind_text(int index, std::string_view value) {
  if (value.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw StoreError("sqlite: value too large to store");
  }
  // SQLITE_TRANSIENT: sqlite copies, so callers may pass temporaries.
  int rc = sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                             SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) conn_.fail(rc, "binding a parameter");
  return *this;
}

Statement& Statement::bind_int(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(value));
  if (rc != SQLITE_OK) conn_.fail(rc, "binding a parameter");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  conn_.fail(rc, sqlite3_sql(stmt_));
}

void Statement::run() {
  while (step()) {
  }
}

std::string Statement::column_text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  // column_bytes after column_text gives the UTF-8 length, embedded NULs included.
  int n = sqlite3_column_bytes(stmt_, col);
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

int64_t Statement::column_int(int col) const {
  return static_cast<int64_t>(sqlite3_column_int64(stmt_, col));
}

namespace {

// Process-wide library settings, applied once before the first connection initializes sqlite
// (sqlite3_config is refused afterwards, which is harmless: the defaults still work).
// MEMSTATUS off: with it on, every sqlite3_malloc and sqlite3_free takes one global mutex to
// keep allocation statistics nobody reads, which the writer and all readers then contend on.
void configure_library() {
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
}

}  // namespace

Connection::Connection(const std::string& path, Access access) {
  configure_library();
  // NOMUTEX: the owner serializes access, so sqlite's own per-call mutex would be redundant.
  int flags = access == Access::read_only
                  ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
                  : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    close();
    throw StoreError("sqlite: cannot open database '" + path + "': " + msg);
  }
  try {
    sqlite3_extended_result_codes(db_, 1);
    // busy_timeout first, so switching to WAL waits for another process's lock.
    exec("PRAGMA busy_timeout=5000");
    if (access == Access::read_only) return;  // the writer made the file WAL
    // The first read of the file: a non-database file fails here with SQLITE_NOTADB.
    Statement mode = prepare("PRAGMA journal_mode=WAL");
    std::string journal = mode.step() ? mode.column_text(0) : std::string();
    if (journal != "wal" && path != ":memory:") {
      throw StoreError("sqlite: cannot enable WAL on '" + path + "' (journal_mode=" + journal +
                       ")");
    }
    exec("PRAGMA synchronous=FULL");
    exec("PRAGMA foreign_keys=ON");
  } catch (...) {
    close();
    throw;
  }
}

Connection::~Connection() { close(); }

void Connection::close() noexcept {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  cache_.clear();
  // close_v2 defers the close if anything is still open rather than leaking the handle.
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

void Connection::exec(const std::string& sql) {
  // sqlite3_errmsg() carries the same text as exec's error string, so fail() can report it.
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(rc, sql);
}

int64_t Connection::query_int(const std::string& sql) {
  Statement st = prepare(sql);
  if (!st.step()) throw StoreError("sqlite: no result from: " + sql);
  return st.column_int(0);
}

Statement Connection::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    // PREPARE_PERSISTENT: these statements live as long as the connection.
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size() + 1),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) fail(rc, sql);
    it = cache_.emplace(sql, stmt).first;
  }
  return Statement(*this, it->second);
}

int64_t Connection::changes() const { return static_cast<int64_t>(sqlite3_changes64(db_)); }

bool Connection::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

void Connection::fail(int rc, std::string_view during) const {
  // The extended code tells e.g. SQLITE_IOERR_FSYNC from SQLITE_IOERR_WRITE in the logs.
  int code = sqlite3_extended_errcode(db_);
  if ((code & 0xff) != (rc & 0xff)) code = rc;
  constexpr std::size_t kMaxSql = 80;  // enough to name the statement, not a whole migration
  std::string msg = "sqlite: ";
  msg += sqlite3_errmsg(db_);
  msg += " (code " + std::to_string(code) + ") during: ";
  msg += during.substr(0, kMaxSql);
  if (during.size() > kMaxSql) msg += "...";
  throw StoreError(msg);
}

Transaction::Transaction(Connection& conn) : conn_(conn) { conn_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (done_) return;
  // After SQLITE_FULL/IOERR sqlite may already have rolled back; a second ROLLBACK would fail.
  if (!conn_.in_transaction()) return;
  try {
    conn_.exec("ROLLBACK");
  } catch (const StoreError&) {
    // Nothing more can be done in a destructor; the original error is already propagating.
  }
}

void Transaction::commit() {
  conn_.exec("COMMIT");
  done_ = true;
}

}  // namespace latchkey::store::sqlite
