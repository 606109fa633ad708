// The single writer of a database file, with group commit. Every write runs on one thread and
// one connection; whatever queued while the previous transaction was being made durable goes
// into the next transaction together, so one fsync serves a whole batch of requests instead of
// one each. A caller learns its write is durable only once the transaction holding it is (a
// token is answered only once it would survive kill -9 or power loss), and no caller holds a
// lock across the disk write.
//
// If a piece of work throws, its changes alone are undone and the exception reaches its caller;
// the rest of the batch commits. A batch first runs as one plain transaction; only if a piece of
// work throws is it undone and run again with each piece inside its own SAVEPOINT (two
// statements a piece that a batch without failures need not pay). So work may run twice: it must
// take everything from the connection and set its outputs, never add to them. If the
// transaction itself fails (disk full, I/O error), every caller of that batch gets the error.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "core/cond_var.h"
#include "core/mutex.h"
#include "store/sqlite/sqlite_connection.h"

namespace latchkey::store::sqlite {

class GroupCommit {
 public:
  using Work = std::function<void(Connection&)>;
  // Called with null once the work is durable, or with what went wrong.
  using Done = std::function<void(std::exception_ptr)>;

  // Takes the writer connection (already migrated) and starts the writer thread.
  explicit GroupCommit(std::unique_ptr<Connection> conn, std::size_t max_batch = 512);
  // Finishes the work already queued, then stops the thread.
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Runs `work` in the next batch and returns once that batch is durable; rethrows what
  // `work` threw, or StoreError if the batch could not be committed. Must not be called from
  // inside a piece of work.
  void run(const Work& work) EXCLUDES(mu_);

  // Queues `work` for the next batch and returns at once. `done` runs on the writer thread
  // when the batch is settled, so it must be quick (hand the result to another thread) and
  // must not queue more work itself.
  void submit(Work work, Done done) EXCLUDES(mu_);

  // Work items and transactions committed so far: their ratio is the batching achieved.
  [[nodiscard]] uint64_t writes() const { return writes_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }

 private:
  struct Job {
    Work work;
    Done done;
    std::exception_ptr error;
  };

  enum class Attempt { committed, job_failed, failed };

  void loop() EXCLUDES(mu_);
  void execute(std::vector<Job>& batch);
  // One transaction over the batch; `isolated` puts each job in a savepoint. Without it, the
  // first job that throws undoes the whole transaction (job_failed).
  Attempt attempt(std::vector<Job>& batch, bool isolated);
  static void roll_back(Connection& conn);

  std::unique_ptr<Connection> conn_;  // used by the writer thread only
  const std::size_t max_batch_;
  Mutex mu_;
  CondVar queued_;  // the writer waits here for work
  std::deque<Job> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> commits_{0};
  std::thread thread_;  // last: started once everything above is initialized
};

}  // namespace latchkey::store::sqlite
