// A bounded pool of connections to one PostgreSQL database. A connection is lent to one caller
// at a time; the pool opens connections as they are needed, up to `max_size`, and a caller
// beyond that waits for one to come back, for at most `wait`, then gets StoreError (the HTTP
// layer answers 503): a burst of requests never opens connections without bound, which the
// server would refuse anyway beyond its max_connections.
//
// A connection that comes back broken, or still inside a transaction, is closed rather than
// lent again. When one is found broken, every idle one is closed as well: they were most likely
// cut by the same event (a server restart, a failover), and each would otherwise fail its next
// caller in turn. The next caller opens a fresh one.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/cond_var.h"
#include "core/mutex.h"
#include "store/postgres/postgres_connection.h"

namespace latchkey::store::postgres {

class ConnectionPool {
 public:
  // Each connection is opened with `conninfo` and `settings`.
  ConnectionPool(std::string conninfo, std::size_t max_size, std::chrono::milliseconds wait,
                 SessionSettings settings = {});

  // Runs f(Connection&) on a lent connection and returns what it returns.
  template <class F>
  auto with(F&& f) {
    Lease lease(*this);
    return f(*lease.conn);
  }

  // Connections open now (lent and idle), for tests and diagnostics.
  [[nodiscard]] std::size_t open_connections() EXCLUDES(mu_);

 private:
  struct Lease {
    explicit Lease(ConnectionPool& owner) : pool(owner), conn(owner.acquire()) {}
    ~Lease() { pool.release(std::move(conn)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ConnectionPool& pool;
    std::unique_ptr<Connection> conn;
  };

  std::unique_ptr<Connection> acquire() EXCLUDES(mu_);
  void release(std::unique_ptr<Connection> conn) EXCLUDES(mu_);

  const std::string conninfo_;
  const SessionSettings settings_;
  const std::size_t max_size_;
  const std::chrono::milliseconds wait_;
  Mutex mu_;
  CondVar returned_;
  std::vector<std::unique_ptr<Connection>> idle_ GUARDED_BY(mu_);
  std::size_t open_ GUARDED_BY(mu_) = 0;  // lent, idle and opening
};

}  // namespace latchkey::store::postgres
