#include "store/sqlite/group_commit.h"

#include "store/stores.h"

namespace latchkey::store::sqlite {

GroupCommit::GroupCommit(std::unique_ptr<Connection> conn, std::size_t max_batch)
    : conn_(std::move(conn)), max_batch_(max_batch), thread_([this] { loop(); }) {}

GroupCommit::~GroupCommit() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  queued_.notify_one();
  thread_.join();
}

void GroupCommit::submit(Work work, Done done) {
  {
    MutexLock lock(mu_);
    if (stopping_) throw StoreError("sqlite: database is closing");
    queue_.push_back(Job{std::move(work), std::move(done), nullptr});
  }
  queued_.notify_one();
}

void GroupCommit::run(const Work& work) {
  // The caller's own latch: a commit wakes exactly the callers it served. `done` signals
  // under the latch's lock, so the caller cannot return (and destroy the latch) before the
  // writer has let go of it.
  struct Latch {
    Mutex mu;
    CondVar cv;
    bool done GUARDED_BY(mu) = false;
    std::exception_ptr error GUARDED_BY(mu);
  } latch;
  submit([&work](Connection& c) { work(c); },
         [&latch](std::exception_ptr error) {
           MutexLock lock(latch.mu);
           latch.error = std::move(error);
           latch.done = true;
           latch.cv.notify_one();
         });
  MutexLock lock(latch.mu);
  while (!latch.done) latch.cv.wait(lock);
  if (latch.error) std::rethrow_exception(latch.error);
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
    for (Job& job : batch) job.done(std::move(job.error));
    batch.clear();
  }
}

void GroupCommit::execute(std::vector<Job>& batch) {
  if (attempt(batch, /*isolated=*/false) != Attempt::job_failed) return;
  // A job threw and the whole transaction was undone. Alone, it simply failed; with others,
  // the batch runs again with each job in its own savepoint, so that only that job is left out.
  if (batch.size() == 1) return;
  for (Job& job : batch) job.error = nullptr;
  attempt(batch, /*isolated=*/true);
}

GroupCommit::Attempt GroupCommit::attempt(std::vector<Job>& batch, bool isolated) {
  Connection& conn = *conn_;
  // Transaction statements are prepared once and cached.
  try {
    conn.prepare("BEGIN IMMEDIATE").run();
  } catch (...) {
    for (Job& job : batch) job.error = std::current_exception();
    return Attempt::failed;
  }
  std::size_t i = 0;
  for (; i < batch.size(); ++i) {
    Job& job = batch[i];
    if (!isolated) {
      try {
        job.work(conn);
        continue;
      } catch (...) {
        job.error = std::current_exception();
      }
      roll_back(conn);
      return Attempt::job_failed;
    }
    try {
      conn.prepare("SAVEPOINT work").run();
      job.work(conn);
      conn.prepare("RELEASE work").run();
    } catch (...) {
      job.error = std::current_exception();
      if (!conn.in_transaction()) break;  // sqlite rolled the whole batch back (I/O error)
      try {
        conn.prepare("ROLLBACK TO work").run();
        conn.prepare("RELEASE work").run();
      } catch (...) {
        break;
      }
    }
  }
  if (i < batch.size()) {
    // The transaction is lost: nothing of this batch is durable, so no caller may be told
    // otherwise.
    std::exception_ptr error = batch[i].error;
    for (Job& job : batch) job.error = error;
    roll_back(conn);
    return Attempt::failed;
  }
  try {
    conn.prepare("COMMIT").run();
    commits_.fetch_add(1, std::memory_order_relaxed);
    writes_.fetch_add(batch.size(), std::memory_order_relaxed);
    return Attempt::committed;
  } catch (...) {
    std::exception_ptr error = std::current_exception();
    for (Job& job : batch) {
      if (!job.error) job.error = error;
    }
    roll_back(conn);
    return Attempt::failed;
  }
}

void GroupCommit::roll_back(Connection& conn) {
  if (!conn.in_transaction()) return;
  try {
    conn.exec("ROLLBACK");
  } catch (...) {
    // The connection reports the same failure again on the next batch, if it persists; the
    // callers already have theirs.
  }
}

}  // namespace latchkey::store::sqlite
