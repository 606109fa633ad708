// Removes expired codes, tokens and sessions in the background (Database::purge_expired), so
// the tables stop growing with every token ever issued. Each batch is one short write through
// the store's writer (at most `batch_rows` rows examined and deleted), batches are spaced by a
// pause in which requests' writes go first, and a pass over every table is followed by a
// longer rest. Rows are kept for a grace period after they expire (see Options::grace_ms).
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <thread>

#include "core/clock.h"
#include "core/cond_var.h"
#include "core/mutex.h"
#include "store/stores.h"

namespace latchkey::store {

class ExpiredRowPurger {
 public:
  struct Options {
    // Rows stay this long after they expire: a clock a little behind another process's (the
    // CLI, a second server on the same file) still finds what it just saw expire, and an
    // operator looking into a problem finds the rows of the last hour.
    int64_t grace_ms = 60 * 60 * 1000;
    int batch_rows = 500;
    // Between the batches of a pass. A batch of 500 deletions is about 0.6 ms of the writer's
    // work (plus its pages in the commit it joins), so at one per 100 ms the purge takes about
    // 1% of the writer and still deletes 5,000 rows a second (bench/purge.sh: 20 ms cost a
    // fifth of client_credentials throughput while deleting, 100 ms about 1%).
    int64_t pause_ms = 100;
    int64_t interval_ms = 60'000;  // from the end of a pass to the start of the next
  };

  ExpiredRowPurger(Database& db, const Clock& clock, Options options);
  ~ExpiredRowPurger();  // stops the thread
  ExpiredRowPurger(const ExpiredRowPurger&) = delete;
  ExpiredRowPurger& operator=(const ExpiredRowPurger&) = delete;

  // Runs one batch if one is due at the clock's time, and returns the milliseconds until the
  // next is due. A store failure (StoreError) is rethrown; the next batch is then due after
  // interval_ms. Not thread-safe: called by the thread of start(), or by a test instead.
  int64_t run_due();
  // Rows deleted so far.
  int64_t purged() const { return purged_.load(std::memory_order_relaxed); }

  // Calls run_due() on a thread of its own, waiting in between, until stop(). `on_error`, if
  // set, hears of each failed batch on that thread (it must not throw).
  void start(std::function<void(const std::exception&)> on_error);
  // Wakes the thread and joins it; a batch in progress finishes first. Idempotent.
  void stop() EXCLUDES(mu_);

 private:
  Database& db_;
  const Clock& clock_;
  const Options options_;
  PurgeCursor cursor_;
  int64_t next_due_ms_ = 0;         // the first batch is due at once
  std::atomic<int64_t> purged_{0};  // read from other threads

  Mutex mu_;
  CondVar wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace latchkey::store
