#include "app/readiness.h"

#include <exception>

namespace latchkey::app {

Readiness::Readiness(store::HealthStore& db, const Clock& clock, Options options)
    : db_(db), clock_(clock), options_(options), thread_([this] { loop(); }) {}

Readiness::~Readiness() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  asked_.notify_one();
  thread_.join();
}

bool Readiness::ready() {
  MutexLock lock(mu_);
  const int64_t now = clock_.now_ms();
  // A clock set back makes the last answer look newer than it is: not fresh then.
  if (pings_ > 0 && now >= last_ms_ && now - last_ms_ < options_.max_age_ms) return last_ok_;
  if (!wanted_) {
    wanted_ = true;
    asked_.notify_one();
  }
  // The ping running now, or the one just asked for, answers this probe.
  const uint64_t seen = pings_;
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  while (pings_ == seen) {
    if (!answered_.wait_until(lock, deadline) && pings_ == seen) return false;
  }
  return last_ok_;
}

void Readiness::loop() {
  MutexLock lock(mu_);
  for (;;) {
    while (!stopping_ && !wanted_) asked_.wait(lock);
    if (stopping_) return;
    lock.unlock();
    bool ok = false;
    try {
      db_.ping();
      ok = true;
    } catch (const std::exception&) {
      // StoreError, or anything else the backend threw: the database did not answer.
    }
    lock.lock();
    last_ok_ = ok;
    last_ms_ = clock_.now_ms();
    ++pings_;
    wanted_ = false;
    answered_.notify_all();
  }
}

}  // namespace latchkey::app
