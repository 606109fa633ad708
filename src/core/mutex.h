// A mutex that clang's thread-safety analysis understands (core/thread_annotations.h), and the
// lock that holds it for a scope. Members a Mutex guards are declared GUARDED_BY(mu_); clang then
// refuses, at compile time, code that touches them without a MutexLock on mu_ in scope. Under
// other compilers this is std::mutex and std::unique_lock, at the same cost.
//
// Thread safety: a Mutex is shared between threads; a MutexLock belongs to the thread that made
// it. A condition variable waits on a MutexLock through core/cond_var.h.
#pragma once

#include <mutex>

#include "core/thread_annotations.h"

namespace latchkey {

class CondVar;

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Prefer MutexLock; these make a Mutex usable with std::scoped_lock and the like.
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }

 private:
  friend class MutexLock;
  std::mutex mu_;
};

// Holds `mu` from construction to destruction. unlock() and lock() let go of it and take it again
// within the scope (for work that must not hold it); the analysis follows both.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : lock_(mu.mu_) {}
  ~MutexLock() RELEASE() = default;
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void unlock() RELEASE() { lock_.unlock(); }
  void lock() ACQUIRE() { lock_.lock(); }

 private:
  friend class CondVar;
  std::unique_lock<std::mutex> lock_;
};

}  // namespace latchkey
