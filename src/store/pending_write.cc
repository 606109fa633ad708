#include "store/pending_write.h"

#include <stdexcept>

namespace latchkey::store {

WriteOutcome WriteOutcome::of(const std::exception_ptr& error) {
  if (!error) return {};
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return failed_because(e.what());
  } catch (...) {
    return failed_because("unknown error");
  }
}

std::shared_ptr<PendingWrite> PendingWrite::settled(const WriteOutcome& outcome) {
  auto p = std::make_shared<PendingWrite>();
  p->settle(outcome);
  return p;
}

void PendingWrite::on_settled(Done done) {
  WriteOutcome outcome;
  {
    MutexLock lock(mu_);
    if (!settled_) {
      done_ = std::move(done);
      return;
    }
    outcome = outcome_;
  }
  done(outcome);
}

WriteOutcome PendingWrite::wait() {
  MutexLock lock(mu_);
  while (!settled_) settled_cv_.wait(lock);
  return outcome_;
}

void PendingWrite::settle(const WriteOutcome& outcome) {
  Done done;
  {
    MutexLock lock(mu_);
    settled_ = true;
    outcome_ = outcome;
    done = std::move(done_);
    settled_cv_.notify_all();
  }
  if (done) done(outcome);
}

}  // namespace latchkey::store
