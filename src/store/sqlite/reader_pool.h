// Read-only connections for the readers of a WAL database. In WAL mode readers never wait for
// the writer nor it for them, so reads run beside a commit that is waiting on the disk. A
// connection is lent to one caller at a time; the pool grows to at most `max_size` and callers
// beyond that wait for one to come back (each keeps its own page cache, so the cap bounds
// memory).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/cond_var.h"
#include "core/mutex.h"
#include "store/sqlite/sqlite_connection.h"

namespace latchkey::store::sqlite {

class ReaderPool {
 public:
  ReaderPool(std::string path, std::size_t max_size);

  // Runs f(Connection&) on a lent connection.
  template <class F>
  auto with(F&& f) {
    Lease lease(*this);
    return f(*lease.conn);
  }

 private:
  struct Lease {
    explicit Lease(ReaderPool& owner) : pool(owner), conn(owner.acquire()) {}
    ~Lease() { pool.release(std::move(conn)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ReaderPool& pool;
    std::unique_ptr<Connection> conn;
  };

  std::unique_ptr<Connection> acquire() EXCLUDES(mu_);
  void release(std::unique_ptr<Connection> conn) EXCLUDES(mu_);

  const std::string path_;
  const std::size_t max_size_;
  Mutex mu_;
  CondVar returned_;
  std::vector<std::unique_ptr<Connection>> idle_ GUARDED_BY(mu_);
  std::size_t open_ GUARDED_BY(mu_) = 0;
};

}  // namespace latchkey::store::sqlite
