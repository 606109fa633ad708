#include "store/sqlite/reader_pool.h"

namespace latchkey::store::sqlite {

ReaderPool::ReaderPool(std::string path, std::size_t max_size)
    : path_(std::move(path)), max_size_(max_size == 0 ? 1 : max_size) {}

std::unique_ptr<Connection> ReaderPool::acquire() {
  {
    MutexLock lock(mu_);
    while (idle_.empty() && open_ >= max_size_) returned_.wait(lock);
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  // Opened outside the lock: opening touches the file.
  try {
    return std::make_unique<Connection>(path_, Connection::Access::read_only);
  } catch (...) {
    MutexLock lock(mu_);
    --open_;
    returned_.notify_one();
    throw;
  }
}

void ReaderPool::release(std::unique_ptr<Connection> conn) {
  {
    MutexLock lock(mu_);
    idle_.push_back(std::move(conn));
  }
  returned_.notify_one();
}

}  // namespace latchkey::store::sqlite
