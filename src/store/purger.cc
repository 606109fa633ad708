#include "store/purger.h"

#include <chrono>
#include <utility>

namespace latchkey::store {

ExpiredRowPurger::ExpiredRowPurger(Database& db, const Clock& clock, Options options)
    : db_(db), clock_(clock), options_(options) {}

ExpiredRowPurger::~ExpiredRowPurger() { stop(); }

int64_t ExpiredRowPurger::run_due() {
  const int64_t now = clock_.now_ms();
  if (now < next_due_ms_) return next_due_ms_ - now;
  next_due_ms_ = now + options_.interval_ms;  // what holds if the batch fails
  PurgeResult r = db_.purge_expired(now - options_.grace_ms, options_.batch_rows, cursor_);
  cursor_ = r.next;
  purged_.fetch_add(r.deleted, std::memory_order_relaxed);
  const int64_t wait = r.pass_done ? options_.interval_ms : options_.pause_ms;
  next_due_ms_ = now + wait;
  return wait;
}

void ExpiredRowPurger::start(std::function<void(const std::exception&)> on_error) {
  thread_ = std::thread([this, on_error = std::move(on_error)] {
    MutexLock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      int64_t wait_ms = options_.interval_ms;
      try {
        wait_ms = run_due();
      } catch (const std::exception& e) {
        if (on_error) on_error(e);
      }
      lock.lock();
      // Until the next batch is due or stop(); a wake-up for neither waits on.
      const auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
      while (!stopping_ && wake_.wait_until(lock, due)) continue;
    }
  });
}

void ExpiredRowPurger::stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace latchkey::store
