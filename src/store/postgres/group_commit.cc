#include "store/postgres/group_commit.h"

#include <algorithm>
#include <chrono>
#include <random>

namespace latchkey::store::postgres {
namespace {

bool is_contention(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const Contention&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

GroupCommit::GroupCommit(std::string conninfo, SessionSettings settings, std::size_t max_batch)
    : conninfo_(std::move(conninfo)),
      settings_(settings),
      max_batch_(max_batch),
      thread_([this] { loop(); }) {}

GroupCommit::~GroupCommit() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  queued_.notify_one();
  thread_.join();
}

void GroupCommit::submit(Work work, Done done, std::string order_key) {
  {
    MutexLock lock(mu_);
    if (stopping_) throw StoreError("postgres: database is closing");
    queue_.push_back(Job{std::move(work), std::move(done), std::move(order_key), nullptr});
  }
  queued_.notify_one();
}

void GroupCommit::loop() {
  std::vector<Job> batch;
  batch.reserve(max_batch_);
  for (;;) {
    {
      MutexLock lock(mu_);
      while (!stopping_ && queue_.empty()) queued_.wait(lock);
      if (queue_.empty()) return;  // stopping, and nothing left to write
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    execute(batch);
    // The error is handed over, not shared: the caller may read the exception while this thread
    // goes on, and the last owner alone destroys it.
    for (Job& job : batch) job.done(std::move(job.error));
    batch.clear();
  }
}

void GroupCommit::execute(std::vector<Job>& batch) {
  // Keyed jobs first, in key order, so that every process takes their rows' locks in one
  // order; the others keep the order they came in.
  std::stable_sort(batch.begin(), batch.end(), [](const Job& a, const Job& b) {
    if (a.order.empty()) return false;
    return b.order.empty() || a.order < b.order;
  });
  if (run(batch, /*isolated=*/false) != Attempt::job_failed) return;
  // A job threw and the whole transaction was undone. Alone, it simply failed; with others,
  // the batch runs again with each job in its own savepoint, so that only that job is left out.
  if (batch.size() == 1) return;
  for (Job& job : batch) job.error = nullptr;
  run(batch, /*isolated=*/true);
}

GroupCommit::Attempt GroupCommit::run(std::vector<Job>& batch, bool isolated) {
  for (int tries = 1;; ++tries) {
    const Attempt a = attempt(batch, isolated, /*retry_contention=*/tries < kContentionTries);
    if (a != Attempt::contended) return a;
    // Cancelled whole: what it collided with goes on. Run again at once, this transaction could
    // take a row back before the winner, woken by the rollback, takes it, and collide again; a
    // short pause of random length, growing with each try, lets the winner through first.
    contentions_.fetch_add(1, std::memory_order_relaxed);
    for (Job& job : batch) job.error = nullptr;
    std::uniform_int_distribution<int> pause_ms(1, 5 * tries);
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(jitter_)));
  }
}

GroupCommit::Attempt GroupCommit::fail_all(std::vector<Job>& batch,
                                           const std::exception_ptr& error) {
  for (Job& job : batch) job.error = error;
  roll_back();
  return Attempt::failed;
}

GroupCommit::Attempt GroupCommit::attempt(std::vector<Job>& batch, bool isolated,
                                          bool retry_contention) {
  try {
    if (!conn_) conn_ = std::make_unique<Connection>(conninfo_, settings_);
    conn_->exec("BEGIN");
  } catch (...) {
    return fail_all(batch, std::current_exception());
  }
  Connection& conn = *conn_;
  for (Job& job : batch) {
    if (!isolated) {
      try {
        job.work(conn);
        continue;
      } catch (...) {
        job.error = std::current_exception();
      }
      // Nothing of this transaction is durable: a lost connection fails the whole batch.
      if (conn.broken()) return fail_all(batch, job.error);
      roll_back();
      return retry_contention && is_contention(job.error) ? Attempt::contended
                                                          : Attempt::job_failed;
    }
    try {
      conn.run("SAVEPOINT work");
      job.work(conn);
      conn.run("RELEASE work");
    } catch (...) {
      job.error = std::current_exception();
      if (conn.broken()) return fail_all(batch, job.error);
      if (retry_contention && is_contention(job.error)) {
        roll_back();
        return Attempt::contended;
      }
      try {
        conn.run("ROLLBACK TO work");
        conn.run("RELEASE work");
      } catch (...) {
        return fail_all(batch, std::current_exception());
      }
    }
  }
  try {
    Result r = conn.exec("COMMIT");
    // A transaction that failed earlier answers COMMIT with ROLLBACK, successfully.
    if (r.tag() != "COMMIT") throw StoreError("postgres: the batch was rolled back");
  } catch (...) {
    // Also when the connection was lost while the COMMIT was in flight: the batch may have
    // been applied, but no caller may be told it is durable.
    std::exception_ptr error = std::current_exception();
    if (retry_contention && is_contention(error) && !conn.broken()) {
      roll_back();
      return Attempt::contended;
    }
    for (Job& job : batch) {
      if (!job.error) job.error = error;
    }
    roll_back();
    return Attempt::failed;
  }
  commits_.fetch_add(1, std::memory_order_relaxed);
  writes_.fetch_add(batch.size(), std::memory_order_relaxed);
  return Attempt::committed;
}

void GroupCommit::roll_back() {
  if (!conn_) return;
  if (!conn_->broken() && !conn_->idle()) {
    try {
      conn_->exec("ROLLBACK");
    } catch (...) {
      // The connection is replaced below if that broke it; the callers have their error.
    }
  }
  if (conn_->broken() || !conn_->idle()) conn_.reset();
}

}  // namespace latchkey::store::postgres
