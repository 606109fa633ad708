#include "store/postgres/group_commit.h"

#include <algorithm>
#include <chrono>

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

GroupCommit::GroupCommit(std::string conninfo, SessionSettings settings, std::size_t max_batch,
                         std::size_t writers)
    : conninfo_(std::move(conninfo)),
      settings_(settings),
      max_batch_(max_batch),
      writers_(std::max<std::size_t>(writers, 1)) {
  for (Writer& w : writers_) w.thread = std::thread([this, &w] { loop(w); });
}

GroupCommit::~GroupCommit() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  queued_.notify_all();
  for (Writer& w : writers_) w.thread.join();
}

void GroupCommit::submit(Write write, Done done, std::string order_key) {
  {
    MutexLock lock(mu_);
    if (stopping_) throw StoreError("postgres: database is closing");
    queue_.push_back(Job{std::move(write), std::move(done), std::move(order_key), nullptr});
  }
  queued_.notify_one();
}

void GroupCommit::submit(Work work, Done done, std::string order_key) {
  submit(
      Write{{}, [work = std::move(work)](Connection& conn, std::vector<Result>&) { work(conn); }},
      std::move(done), std::move(order_key));
}

void GroupCommit::loop(Writer& w) {
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
    for (Job& job : batch) {
      if (job.write.gather) job.write = job.write.gather();
    }
    execute(w, batch);
    // The error is handed over, not shared: the caller may read the exception while this thread
    // goes on, and the last owner alone destroys it.
    for (Job& job : batch) job.done(std::move(job.error));
    batch.clear();
  }
}

void GroupCommit::execute(Writer& w, std::vector<Job>& batch) {
  // Keyed jobs first, in key order, so that every writer takes their rows' locks in one order;
  // the others keep the order they came in.
  std::stable_sort(batch.begin(), batch.end(), [](const Job& a, const Job& b) {
    if (a.order.empty()) return false;
    return b.order.empty() || a.order < b.order;
  });
  if (run(w, batch, /*isolated=*/false) != Attempt::job_failed) return;
  // A job failed and the whole transaction was undone. Alone, it simply failed; with others,
  // the batch runs again with each job in its own savepoint, so that only that job is left out.
  if (batch.size() == 1) return;
  for (Job& job : batch) job.error = nullptr;
  run(w, batch, /*isolated=*/true);
}

GroupCommit::Attempt GroupCommit::run(Writer& w, std::vector<Job>& batch, bool isolated) {
  for (int tries = 1;; ++tries) {
    const Attempt a = attempt(w, batch, isolated, /*retry_contention=*/tries < kContentionTries);
    if (a != Attempt::contended) return a;
    // Cancelled whole: what it collided with goes on. Run again at once, this transaction could
    // take a row back before the winner, woken by the rollback, takes it, and collide again; a
    // short pause of random length, growing with each try, lets the winner through first.
    contentions_.fetch_add(1, std::memory_order_relaxed);
    for (Job& job : batch) job.error = nullptr;
    std::uniform_int_distribution<int> pause_ms(1, 5 * tries);
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(w.jitter)));
  }
}

GroupCommit::Attempt GroupCommit::fail_all(Writer& w, std::vector<Job>& batch,
                                           const std::exception_ptr& error) {
  for (Job& job : batch) job.error = error;
  roll_back(w);
  return Attempt::failed;
}

GroupCommit::Attempt GroupCommit::after_failure(Writer& w, std::vector<Job>& batch, const Job& job,
                                                bool retry_contention) {
  // Nothing of this transaction is durable: a lost connection fails the whole batch.
  if (w.conn->broken()) return fail_all(w, batch, job.error);
  roll_back(w);
  return retry_contention && is_contention(job.error) ? Attempt::contended : Attempt::job_failed;
}

GroupCommit::Attempt GroupCommit::attempt(Writer& w, std::vector<Job>& batch, bool isolated,
                                          bool retry_contention) {
  if (!w.conn) {
    try {
      w.conn = std::make_unique<Connection>(conninfo_, settings_);
    } catch (...) {
      return fail_all(w, batch, std::current_exception());
    }
  }
  Connection& conn = *w.conn;
  if (!isolated) {
    // BEGIN and every job's statements in one round trip, and the COMMIT too unless a job has
    // work to do between its statements and the commit (`then`): a batch of token saves is then
    // one round trip, not two. Should a statement fail, the server skips the COMMIT and the
    // transaction waits for the ROLLBACK that after_failure sends, as with a separate COMMIT.
    const Statement begin{"BEGIN", {}};
    const Statement commit_statement{"COMMIT", {}};
    std::vector<const Statement*> sent{&begin};
    for (const Job& job : batch) {
      for (const Statement& s : job.write.statements) sent.push_back(&s);
    }
    const bool commit_sent =
        std::none_of(batch.begin(), batch.end(), [](const Job& job) { return job.write.then; });
    if (commit_sent) sent.push_back(&commit_statement);
    std::vector<Answer> answers;
    try {
      answers = conn.pipeline(sent);
    } catch (...) {
      return fail_all(w, batch, std::current_exception());
    }
    if (answers[0].error) return fail_all(w, batch, answers[0].error);
    std::vector<std::vector<Result>> results(batch.size());
    std::size_t next = 1;
    for (std::size_t j = 0; j < batch.size(); ++j) {
      Job& job = batch[j];
      for (std::size_t k = 0; k < job.write.statements.size(); ++k, ++next) {
        Answer& a = answers[next];
        // The first failure is the one to blame; the statements it made the server skip are
        // left to the run that follows.
        if (a.error && !a.skipped) {
          job.error = a.error;
          return after_failure(w, batch, job, retry_contention);
        }
        if (a.result) results[j].push_back(std::move(*a.result));
      }
    }
    if (commit_sent) return commit(w, batch, retry_contention, &answers.back());
    for (std::size_t j = 0; j < batch.size(); ++j) {
      Job& job = batch[j];
      if (!job.write.then) continue;
      try {
        job.write.then(conn, results[j]);
      } catch (...) {
        job.error = std::current_exception();
        return after_failure(w, batch, job, retry_contention);
      }
    }
    return commit(w, batch, retry_contention);
  }
  try {
    conn.exec("BEGIN");
  } catch (...) {
    return fail_all(w, batch, std::current_exception());
  }
  for (Job& job : batch) {
    try {
      conn.run("SAVEPOINT work");
      std::vector<Result> results;
      for (const Statement& s : job.write.statements) results.push_back(conn.run(s.sql, s.params));
      if (job.write.then) job.write.then(conn, results);
      conn.run("RELEASE work");
    } catch (...) {
      job.error = std::current_exception();
      if (conn.broken()) return fail_all(w, batch, job.error);
      if (retry_contention && is_contention(job.error)) {
        roll_back(w);
        return Attempt::contended;
      }
      try {
        conn.run("ROLLBACK TO work");
        conn.run("RELEASE work");
      } catch (...) {
        return fail_all(w, batch, std::current_exception());
      }
    }
  }
  return commit(w, batch, retry_contention);
}

GroupCommit::Attempt GroupCommit::commit(Writer& w, std::vector<Job>& batch, bool retry_contention,
                                         Answer* sent) {
  Connection& conn = *w.conn;
  try {
    if (sent != nullptr && sent->error) std::rethrow_exception(sent->error);
    if (sent != nullptr && !sent->result) throw StoreError("postgres: COMMIT went unanswered");
    Result r = sent != nullptr ? std::move(*sent->result) : conn.exec("COMMIT");
    // A transaction that failed earlier answers COMMIT with ROLLBACK, successfully.
    if (r.tag() != "COMMIT") throw StoreError("postgres: the batch was rolled back");
  } catch (...) {
    // Also when the connection was lost while the COMMIT was in flight: the batch may have
    // been applied, but no caller may be told it is durable.
    std::exception_ptr error = std::current_exception();
    if (retry_contention && is_contention(error) && !conn.broken()) {
      roll_back(w);
      return Attempt::contended;
    }
    for (Job& job : batch) {
      if (!job.error) job.error = error;
    }
    roll_back(w);
    return Attempt::failed;
  }
  commits_.fetch_add(1, std::memory_order_relaxed);
  writes_.fetch_add(batch.size(), std::memory_order_relaxed);
  return Attempt::committed;
}

void GroupCommit::roll_back(Writer& w) {
  if (!w.conn) return;
  if (!w.conn->broken() && !w.conn->idle()) {
    try {
      w.conn->exec("ROLLBACK");
    } catch (...) {
      // The connection is replaced below if that broke it; the callers have their error.
    }
  }
  if (w.conn->broken() || !w.conn->idle()) w.conn.reset();
}

}  // namespace latchkey::store::postgres
