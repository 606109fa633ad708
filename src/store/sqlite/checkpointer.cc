#include "store/sqlite/checkpointer.h"

#include "store/stores.h"

namespace latchkey::store::sqlite {

Checkpointer::Checkpointer(const std::string& path, int threshold_pages)
    : conn_(path), threshold_pages_(threshold_pages), thread_([this] { loop(); }) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Checkpointer::wal_grew(int pages) {
  if (pages < threshold_pages_) return;
  {
    std::lock_guard lock(mu_);
    wanted_ = true;
  }
  wake_.notify_one();
}

void Checkpointer::loop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || wanted_; });
      if (stopping_) return;  // closing the last connection checkpoints what is left
      wanted_ = false;
    }
    try {
      conn_.exec("PRAGMA wal_checkpoint(PASSIVE)");
    } catch (const StoreError&) {
      // Busy or failing now; the WAL keeps the data safe and the next commit asks again.
    }
  }
}

}  // namespace latchkey::store::sqlite
