// The queued writes of one process (save_tokens_later, save_code_later, redeem_later), with
// group commit, as store/sqlite/group_commit.h does for a file: a writer thread with a
// connection of its own takes every write queued while the previous transaction was committing
// and commits them together in the next one, so one WAL flush serves a batch of requests. A
// caller learns its write is durable only once the COMMIT holding it has returned (durable
// under synchronous_commit=on, which every connection ensures).
//
// Round trips: a Write is mostly statements whose parameters are known when it is queued. A
// batch sends BEGIN, every write's statements and COMMIT as one pipeline (Connection::pipeline):
// one round trip and one flush per batch however many writes it holds, where a statement at a
// time would cost one round trip per row. When a write of the batch has a `then` (which may run
// more statements, one round trip each, for what depends on an answer), the pipeline stops
// before the COMMIT: the writer reads the answers, hands each write its own, then COMMITs, in a
// second round trip. Writes that many callers make alike may also share one write and its
// statements, built when a writer takes it (Write::gather, write_units.h). With several writer
// threads (the `writers` argument), one builds and sends the next batch while another waits for its
// COMMIT's flush; PostgreSQL flushes commits that arrive together once.
//
// If a write fails, its changes alone are undone and its caller gets the exception; the rest of
// the batch commits. A batch first runs as one plain transaction; only if a write fails is it
// rolled back and run again with each write inside its own SAVEPOINT (statements one at a time
// then). So a write may run more than once: its statements are sent again, and `then` must take
// everything from the answers it is given and set its outputs, never add to them. If the
// transaction itself fails (the server refused the COMMIT, the connection was lost, even during
// the COMMIT when the outcome is unknown), every caller of that batch gets the error; a lost
// connection is replaced for the next batch.
//
// Other writers (this process's other threads, other nodes sharing the database) hold row locks
// in transactions of their own. A batch using up codes X then Y and another using up Y then X
// would each hold one lock and wait for the other's: a deadlock, which PostgreSQL breaks only
// after deadlock_timeout (1 s by default) by cancelling one of them. So a write may carry an
// order key naming the row it locks first (the same name in every process), and a batch sends
// the keyed writes first, in key order: every writer takes those locks in one order. A
// transaction that the server cancels all the same (Contention: a deadlock among other rows, a
// serialization failure) is run again, up to kContentionTries times in all, rather than failing
// its callers, after a short pause of random length: nothing of it was applied, and what it
// collided with has gone on.
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

// One queued write.
struct Write {
  // Sent with the rest of the batch in one pipeline, in this order.
  std::vector<Statement> statements;
  // Optional. Given the connection and the statements' results, in order, once every answer of
  // the batch is in, inside the batch's transaction; it may run further statements. Throwing
  // fails this write as a failing statement does.
  std::function<void(Connection&, std::vector<Result>&)> then;
  // Optional, for a write that stands for several callers' (write_units.h), whose members are
  // known only when a writer takes it: called once, on the writer thread, when a batch takes
  // this write and before the batch first runs; the Write it returns replaces this one. Must
  // not throw.
  std::function<Write()> gather = {};
};

class GroupCommit {
 public:
  // A write as one function run inside the batch's transaction, after every Write's statements
  // (a Write with `then` alone): for what cannot be sent ahead.
  using Work = std::function<void(Connection&)>;
  // Called with null once the work is durable, or with what went wrong.
  using Done = std::function<void(std::exception_ptr)>;

  // Starts `writers` writer threads; each connects (with `conninfo` and `settings`) when its
  // first batch comes. A batch holds at most `max_batch` writes.
  explicit GroupCommit(std::string conninfo, SessionSettings settings = {},
                       std::size_t max_batch = 512, std::size_t writers = 1);
  // Finishes the work already queued, then stops the threads.
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Queues `write` for the next batch and returns at once. `done` runs on a writer thread
  // when the batch is settled, so it must be quick and must not queue more work itself.
  // `order_key`, when not empty, names the row `write` locks first, as every process names it:
  // keyed writes go before the rest of their batch, in key order.
  void submit(Write write, Done done, std::string order_key = {}) EXCLUDES(mu_);
  void submit(Work work, Done done, std::string order_key = {}) EXCLUDES(mu_);

  // Writes and transactions committed so far: their ratio is the batching achieved.
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
    Write write;
    Done done;
    std::string order;  // the order key, or empty
    std::exception_ptr error;
  };

  // What one writer thread owns.
  struct Writer {
    std::unique_ptr<Connection> conn;                 // null until needed, and after it broke
    std::minstd_rand jitter{std::random_device{}()};  // pauses after a collision
    std::thread thread;
  };

  enum class Attempt { committed, job_failed, failed, contended };

  void loop(Writer& w) EXCLUDES(mu_);
  void execute(Writer& w, std::vector<Job>& batch);
  // attempt(), run again while the server cancels it for a collision, up to kContentionTries
  // runs; the last one reports a collision as any other failure.
  Attempt run(Writer& w, std::vector<Job>& batch, bool isolated);
  // One transaction over the batch. Plain, as one pipeline: the first write that fails undoes
  // the whole transaction (job_failed). `isolated` puts each write in a savepoint, its
  // statements one at a time. With `retry_contention`, a collision undoes the whole transaction
  // and nothing else (contended).
  Attempt attempt(Writer& w, std::vector<Job>& batch, bool isolated, bool retry_contention);
  // What follows the failure of a job's statement or `then`: the job has its error.
  Attempt after_failure(Writer& w, std::vector<Job>& batch, const Job& job, bool retry_contention);
  // Every job of the batch fails with `error`; a broken connection is let go.
  Attempt fail_all(Writer& w, std::vector<Job>& batch, const std::exception_ptr& error);
  // Commits the batch's transaction, or reads the answer to the COMMIT already sent in its
  // pipeline (`sent`).
  Attempt commit(Writer& w, std::vector<Job>& batch, bool retry_contention, Answer* sent = nullptr);
  static void roll_back(Writer& w);

  const std::string conninfo_;
  const SessionSettings settings_;
  const std::size_t max_batch_;
  Mutex mu_;
  CondVar queued_;  // the writers wait here for work
  std::deque<Job> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> contentions_{0};
  std::vector<Writer> writers_;  // last: their threads start once everything above is set
};

}  // namespace latchkey::store::postgres
