// The queued writes of one process (save_tokens_later, save_code_later, redeem_later), with
// group commit, as store/sqlite/group_commit.h does for a file: one writer thread with a
// connection of its own takes every write queued while the previous transaction was committing
// and commits them together in the next one, so one WAL flush serves a batch of requests. A
// caller learns its write is durable only once the COMMIT holding it has returned (durable
// under synchronous_commit=on, which every connection ensures).
//
// If a piece of work throws, its changes alone are undone and its caller gets the exception;
// the rest of the batch commits. A batch first runs as one plain transaction; only if a piece
// of work throws is it rolled back and run again with each piece inside its own SAVEPOINT. So
// work may run more than once: it must take everything from the connection and set its
// outputs, never add to them. If the transaction itself fails (the server refused the COMMIT,
// the connection was lost, even during the COMMIT when the outcome is unknown), every caller of
// that batch gets the error; a lost connection is replaced for the next batch.
//
// Other processes' writers (nodes sharing the database) hold row locks in transactions of their
// own. A batch using up codes X then Y at one node and another using up Y then X at another
// would each hold one lock and wait for the other's: a deadlock, which PostgreSQL breaks only
// after deadlock_timeout (1 s by default) by cancelling one of them. So a piece of work may
// carry an order key naming the row it locks first (the same name in every process), and a
// batch runs the keyed pieces first, in key order: every process takes those locks in one
// order. A transaction that the server cancels all the same (Contention: a deadlock among other
// rows, a serialization failure) is run again, up to kContentionTries times in all, rather than
// failing its callers, after a short pause of random length: nothing of it was applied, and
// what it collided with has gone on.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/cond_var.h"
#include "core/mutex.h"
#include "store/postgres/postgres_connection.h"

namespace latchkey::store::postgres {

class GroupCommit {
 public:
  using Work = std::function<void(Connection&)>;
  // Called with null once the work is durable, or with what went wrong.
  using Done = std::function<void(std::exception_ptr)>;

  // Starts the writer thread; it connects (with `conninfo` and `settings`) when the first batch
  // comes.
  explicit GroupCommit(std::string conninfo, SessionSettings settings = {},
                       std::size_t max_batch = 512);
  // Finishes the work already queued, then stops the thread.
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Queues `work` for the next batch and returns at once. `done` runs on the writer thread
  // when the batch is settled, so it must be quick and must not queue more work itself.
  // `order_key`, when not empty, names the row `work` locks first, as every process names it:
  // keyed work runs before the rest of its batch, in key order.
  void submit(Work work, Done done, std::string order_key = {}) EXCLUDES(mu_);

  // Work items and transactions committed so far: their ratio is the batching achieved.
  [[nodiscard]] uint64_t writes() const { return writes_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  // Transactions run again because the server cancelled them for a collision (Contention).
  [[nodiscard]] uint64_t contentions() const {
    return contentions_.load(std::memory_order_relaxed);
  }

  // How many times a batch's transaction is run in all when the server keeps cancelling it
  // for collisions (each run but the last one that collides is followed by another).
  static constexpr int kContentionTries = 4;

 private:
  struct Job {
    Work work;
    Done done;
    std::string order;  // the order key, or empty
    std::exception_ptr error;
  };

  enum class Attempt { committed, job_failed, failed, contended };

  void loop() EXCLUDES(mu_);
  void execute(std::vector<Job>& batch);
  // attempt(), run again while the server cancels it for a collision, up to kContentionTries
  // runs; the last one reports a collision as any other failure.
  Attempt run(std::vector<Job>& batch, bool isolated);
  // One transaction over the batch; `isolated` puts each job in a savepoint. Without it, the
  // first job that throws undoes the whole transaction (job_failed). With `retry_contention`,
  // a collision undoes the whole transaction and nothing else (contended).
  Attempt attempt(std::vector<Job>& batch, bool isolated, bool retry_contention);
  // Every job of the batch fails with `error`; a broken connection is let go.
  Attempt fail_all(std::vector<Job>& batch, const std::exception_ptr& error);
  void roll_back();

  const std::string conninfo_;
  const SessionSettings settings_;
  std::unique_ptr<Connection> conn_;  // used by the writer thread only; null until needed
  std::minstd_rand jitter_{std::random_device{}()};  // writer thread only: pauses after a collision
  const std::size_t max_batch_;
  Mutex mu_;
  CondVar queued_;  // the writer waits here for work
  std::deque<Job> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> contentions_{0};
  std::thread thread_;  // last: started once everything above is initialized
};

}  // namespace latchkey::store::postgres
