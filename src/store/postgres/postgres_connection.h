// RAII wrapper around one libpq connection: opening it, prepared statements (each distinct SQL
// text is prepared once per connection and executed by name), text parameters, results and
// transactions. Every failure becomes store::StoreError carrying PostgreSQL's primary message
// and SQLSTATE, never its DETAIL (which quotes the row's values: hashes of secrets, PII) nor the
// bound values.
//
// Thread safety: none. A Connection is used by one thread at a time (ConnectionPool lends each
// to one caller; the writer thread owns its own).
#pragma once

// Debian's libpq-dev puts libpq-fe.h in /usr/include/postgresql; naming that folder lets a file
// including this header compile without libpq's pkg-config flags too (tools, syntax checks).
#include <postgresql/libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/stores.h"

namespace latchkey::store::postgres {

// A failure that left the connection unusable (the server went away, the backend was
// terminated, the socket broke). Whatever was in flight has an unknown outcome: a write that
// fails this way is reported as failed even though the server may have applied it, and the
// pool replaces the connection.
struct ConnectionLost : StoreError {
  using StoreError::StoreError;
};

// The server undid the whole transaction because it collided with another one: a deadlock
// (SQLSTATE 40P01), which PostgreSQL breaks by cancelling one of the transactions, or a
// serialization failure (40001). Nothing of the transaction was applied, and the transaction it
// collided with goes on: running it again is safe and will most likely succeed.
struct Contention : StoreError {
  using StoreError::StoreError;
};

// Parameters of one statement, in order ($1, $2, ...), sent as text. Distinct names rather than
// overloads: a string literal would otherwise bind as bool.
class Params {
 public:
  Params& text(std::string_view v);
  Params& int64(int64_t v);
  Params& boolean(bool v);
  // A TEXT[] value (postgres_array.h).
  Params& list(const std::vector<std::string>& v);

  [[nodiscard]] const std::vector<std::string>& values() const { return values_; }

 private:
  std::vector<std::string> values_;
};

// The rows (or the row count) of one statement; columns are 0-based. Reading a NULL or a value
// of the wrong shape throws StoreError (the schema has no NULL columns).
class Result {
 public:
  explicit Result(PGresult* res) : res_(res, &PQclear) {}

  [[nodiscard]] int rows() const { return PQntuples(res_.get()); }
  [[nodiscard]] std::string text(int row, int col) const;
  [[nodiscard]] int64_t int64(int row, int col) const;
  [[nodiscard]] bool boolean(int row, int col) const;
  [[nodiscard]] std::vector<std::string> list(int row, int col) const;
  // Rows an INSERT, UPDATE or DELETE changed.
  [[nodiscard]] int64_t affected() const;
  // The command tag ("COMMIT", "ROLLBACK", "UPDATE 3").
  [[nodiscard]] std::string_view tag() const { return PQcmdStatus(res_.get()); }

 private:
  const char* value(int row, int col) const;
  std::unique_ptr<PGresult, void (*)(PGresult*)> res_;
};

// One statement of a pipeline (Connection::pipeline): its SQL, prepared on the connection's first
// use like Connection::run's, and its parameters.
struct Statement {
  std::string sql;
  Params params;
};

// What one statement of a pipeline came to: its result, or the error it failed with. `skipped`:
// it never ran, because an earlier statement of the same pipeline failed and the server skips
// the rest up to the end of the pipeline (its `error` says so).
struct Answer {
  std::optional<Result> result;
  std::exception_ptr error;
  bool skipped = false;
};

// What a connection sets for its session once connected.
struct SessionSettings {
  // The server's statement_timeout: a statement running longer (a lock held elsewhere, a query
  // that hangs) is cancelled by the server and fails with StoreError (SQLSTATE 57014), and the
  // connection stays usable. 0 keeps the server's own setting.
  std::chrono::milliseconds statement_timeout{0};
};

class Connection {
 public:
  // Opens the connection a libpq connection string or URI names, with UTF-8 as the client
  // encoding and a connect_timeout of 10 s unless it names one, and makes its commits durable: a
  // session whose server default is synchronous_commit=off is switched on (any stronger setting,
  // such as remote_apply for a synchronous standby, is kept). Applies `settings` in the same
  // round trip. Throws ConnectionLost if it cannot connect.
  explicit Connection(const std::string& conninfo, SessionSettings settings = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` with `params` as a prepared statement (prepared on this connection's first use).
  Result run(const std::string& sql, const Params& params = {});
  // Runs one or more statements without parameters (schema, transaction control), unprepared;
  // the result is the last statement's.
  Result exec(const std::string& sql);
  // Runs `statements` in libpq's pipeline mode: every one is sent before any answer is read, so
  // together they cost one round trip rather than one each. They run in order, in one
  // transaction: an implicit one that ends with the pipeline, or the one a BEGIN among them
  // opens, which stays open after it. Once one fails, the server skips the others
  // (Answer::skipped) and the transaction fails: an implicit one is undone, an open one accepts
  // only ROLLBACK. Returns one Answer
  // per statement, in order; never throws for what a statement did. A lost connection gives
  // every statement not yet answered ConnectionLost. Statements not yet prepared on this
  // connection are prepared first, one round trip each, once.
  std::vector<Answer> pipeline(const std::vector<const Statement*>& statements);

  // The connection failed in a way that makes it unusable, or a pipeline left it in a state
  // not known; the pool drops it.
  [[nodiscard]] bool broken() const { return given_up_ || PQstatus(conn_) == CONNECTION_BAD; }
  // Idle: not inside a transaction (a connection returned mid-transaction is not reused).
  [[nodiscard]] bool idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  // The value of the libpq connection option `keyword` in use ("" when unset), for tests and
  // diagnostics.
  [[nodiscard]] std::string option(std::string_view keyword) const;
  // The server process serving this connection (pg_backend_pid), for tests and diagnostics.
  [[nodiscard]] int backend_pid() const { return PQbackendPID(conn_); }

  // For LISTEN (change_listener.h): the socket to wait on for input; reading what arrived on
  // it without blocking (ConnectionLost when the connection broke); and the payloads of the
  // notifications read so far on `channel`, in the order their transactions committed.
  [[nodiscard]] int socket() const { return PQsocket(conn_); }
  void consume_input();
  std::vector<std::string> take_notifications(std::string_view channel);

 private:
  // Throws StoreError (ConnectionLost when the connection broke) unless `res` succeeded.
  Result check(PGresult* res, std::string_view during);
  // The error `res` (which failed) stands for: ConnectionLost, Contention or StoreError.
  std::exception_ptr error_of(const PGresult* res, std::string_view during) const;
  // The name of `sql`'s prepared statement on this connection, preparing it if need be.
  const std::string& prepared(const std::string& sql, int n_params);

  PGconn* conn_ = nullptr;
  bool given_up_ = false;                                  // see broken()
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
};

// BEGIN ... COMMIT on one connection; rolls back unless commit() succeeded. commit() throws
// StoreError when the server did not confirm the commit, also when the connection was lost
// while the COMMIT was in flight: the transaction may or may not have been applied, and a caller
// must never be told it is durable then.
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

}  // namespace latchkey::store::postgres
