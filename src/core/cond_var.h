// A condition variable that waits on a MutexLock (core/mutex.h). It takes no predicate: a waiter
// loops on its own condition, `while (!ready_) cv_.wait(lock);`, written where the thread-safety
// analysis sees that the lock is held, so the guarded members the condition reads are checked
// too (a predicate lambda would be analysed on its own, as if no lock were held).
//
// Thread safety: shared between threads like the Mutex it is used with. Waits may wake without a
// notification, hence the loop.
#pragma once

#include <chrono>
#include <condition_variable>

#include "core/mutex.h"

namespace latchkey {

class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Lets go of the lock's mutex while it waits and holds it again on return.
  void wait(MutexLock& lock) { cv_.wait(lock.lock_); }
  // As wait(), until `deadline` at the latest; false once the deadline has passed.
  template <class Clock, class Duration>
  bool wait_until(MutexLock& lock, const std::chrono::time_point<Clock, Duration>& deadline) {
    return cv_.wait_until(lock.lock_, deadline) == std::cv_status::no_timeout;
  }

  void notify_one() noexcept { cv_.notify_one(); }
  void notify_all() noexcept { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace latchkey
