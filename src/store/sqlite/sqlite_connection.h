// RAII wrapper around one sqlite3 handle: durable open, a prepared-statement cache, statement
// binding/reading, and IMMEDIATE transactions. Every failure becomes store::StoreError carrying
// sqlite's message (never the bound values, which may be secrets' hashes or PII).
//
// Thread safety: none. A Connection and the Statements it hands out must be used by one thread
// at a time (SqliteDatabase lends each to one caller: the writer thread or a reader lease).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace latchkey::store::sqlite {

class Connection;

// A borrowed, cached prepared statement. Resets it and clears its bindings on destruction so
// the cache can hand it out again; bind indexes are 1-based, column indexes 0-based (as sqlite).
class Statement {
 public:
  Statement(Connection& conn, sqlite3_stmt* stmt) : conn_(conn), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Distinct names rather than overloads: a string literal would otherwise bind as bool.
  Statement& bind_text(int index, std::string_view value);
  Statement& bind_int(int index, int64_t value);
  Statement& bind_bool(int index, bool value) { return bind_int(index, value ? 1 : 0); }

  // True when a row is available, false when done; throws StoreError on failure.
  [[nodiscard]] bool step();
  // Steps to completion, for statements whose rows (if any) are not needed.
  void run();

  [[nodiscard]] std::string column_text(int col) const;
  [[nodiscard]] int64_t column_int(int col) const;
  [[nodiscard]] bool column_bool(int col) const { return column_int(col) != 0; }

 private:
  Connection& conn_;
  sqlite3_stmt* stmt_;
};

class Connection {
 public:
  enum class Access { read_write, read_only };

  // Opens `path` (":memory:" for a private in-memory database), creating the file if missing,
  // and applies WAL, synchronous=FULL (a committed token survives power loss, not just a crash
  // of the process), foreign_keys=ON and a 5 s busy timeout for other processes' locks.
  // A read_only connection opens an existing WAL database for queries only.
  explicit Connection(const std::string& path, Access access = Access::read_write);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without parameters (schema, pragmas, transaction control).
  void exec(const std::string& sql);
  // Runs a statement expected to return one integer in its first row (e.g. PRAGMA reads).
  [[nodiscard]] int64_t query_int(const std::string& sql);
  // The cached statement for `sql`, prepared on first use.
  [[nodiscard]] Statement prepare(const std::string& sql);
  // Rows changed by the most recent INSERT/UPDATE/DELETE on this connection.
  [[nodiscard]] int64_t changes() const;
  [[nodiscard]] bool in_transaction() const;
  // The sqlite3 handle, for what this wrapper does not cover (hooks, checkpoints).
  [[nodiscard]] sqlite3* handle() const { return db_; }

  // Throws StoreError describing `rc` and the connection's last error message.
  [[noreturn]] void fail(int rc, std::string_view during) const;

 private:
  void close() noexcept;

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// BEGIN IMMEDIATE takes the write lock up front, so a read-then-write inside the transaction
// cannot be interleaved with another connection or process (and waits on busy_timeout instead
// of failing with SQLITE_BUSY_SNAPSHOT on upgrade). Rolls back unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Connection& conn);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& conn_;
  bool done_ = false;
};

}  // namespace latchkey::store::sqlite
