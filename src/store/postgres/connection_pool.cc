#include "store/postgres/connection_pool.h"

namespace latchkey::store::postgres {

ConnectionPool::ConnectionPool(std::string conninfo, std::size_t max_size,
                               std::chrono::milliseconds wait, SessionSettings settings)
    : conninfo_(std::move(conninfo)),
      settings_(settings),
      max_size_(max_size == 0 ? 1 : max_size),
      wait_(wait) {}

std::unique_ptr<Connection> ConnectionPool::acquire() {
  {
    MutexLock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + wait_;
    while (idle_.empty() && open_ >= max_size_) {
      if (!returned_.wait_until(lock, deadline) && idle_.empty() && open_ >= max_size_) {
        throw StoreError("postgres: every one of the " + std::to_string(max_size_) +
                         " connections of the pool stayed busy for " +
                         std::to_string(wait_.count()) + " ms");
      }
    }
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  // Opened outside the lock: connecting takes a round trip or several (authentication).
  try {
    return std::make_unique<Connection>(conninfo_, settings_);
  } catch (...) {
    MutexLock lock(mu_);
    --open_;
    returned_.notify_one();
    throw;
  }
}

void ConnectionPool::release(std::unique_ptr<Connection> conn) {
  std::vector<std::unique_ptr<Connection>> closing;
  {
    MutexLock lock(mu_);
    if (conn->broken() || !conn->idle()) {
      closing.push_back(std::move(conn));
      if (closing.back()->broken()) {
        for (auto& c : idle_) closing.push_back(std::move(c));
        idle_.clear();
      }
      open_ -= closing.size();
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  returned_.notify_all();
  // `closing` is closed here, outside the lock.
}

std::size_t ConnectionPool::open_connections() {
  MutexLock lock(mu_);
  return open_;
}

}  // namespace latchkey::store::postgres
