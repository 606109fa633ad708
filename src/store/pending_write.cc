#include "store/pending_write.h"

namespace latchkey::store {

std::shared_ptr<PendingWrite> PendingWrite::settled(std::exception_ptr error) {
  auto p = std::make_shared<PendingWrite>();
  p->settle(std::move(error));
  return p;
}

void PendingWrite::on_settled(Done done) {
  std::exception_ptr error;
  {
    std::lock_guard lock(mu_);
    if (!settled_) {
      done_ = std::move(done);
      return;
    }
    error = error_;
  }
  done(error);
}

void PendingWrite::wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return settled_; });
  if (error_) std::rethrow_exception(error_);
}

void PendingWrite::settle(std::exception_ptr error) {
  Done done;
  {
    std::lock_guard lock(mu_);
    settled_ = true;
    error_ = error;
    done = std::move(done_);
    cv_.notify_all();
  }
  if (done) done(std::move(error));
}

}  // namespace latchkey::store
