// Pipelined writes on PostgreSQL: Connection::pipeline, and the writer (group_commit.h) that
// sends a batch's statements as one pipeline, with one or several writer threads. Skipped,
// saying so, when LATCHKEY_TEST_POSTGRES_URL is not set.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "postgres_fixture.h"
#include "store/postgres/group_commit.h"
#include "store/postgres/postgres_connection.h"
#include "store/postgres/write_units.h"

namespace latchkey::store::postgres {
namespace {

class PostgresPipeline : public test::PostgresTableTest {
 protected:
  static Statement insert(const std::string& k, int64_t v) {
    return Statement{"INSERT INTO t (k, v) VALUES ($1, $2)", Params().text(k).int64(v)};
  }
  // Submits `write` and returns a future of the error its batch settled it with.
  static std::future<std::exception_ptr> submit(GroupCommit& writer, Write write) {
    auto settled = std::make_shared<std::promise<std::exception_ptr>>();
    auto future = settled->get_future();
    writer.submit(std::move(write), [settled](std::exception_ptr e) { settled->set_value(e); });
    return future;
  }
  // A write that holds one writer thread inside its batch until release(), so that what is
  // submitted meanwhile queues up for the next batch; `statements` go in the held batch.
  class Hold {
   public:
    explicit Hold(GroupCommit& writer, std::vector<Statement> statements = {}) {
      auto holding = std::make_shared<std::promise<void>>();
      auto held_now = holding->get_future();
      std::shared_future<void> released = release_.get_future().share();
      settled_ = submit(writer, Write{std::move(statements),
                                      [holding, released](Connection&, std::vector<Result>&) {
                                        holding->set_value();
                                        released.wait();
                                      }});
      held_now.wait();
    }
    ~Hold() {
      if (!released_) release_.set_value();
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    // Lets the held batch commit; the error it settled with.
    std::exception_ptr release() {
      released_ = true;
      release_.set_value();
      return settled_.get();
    }

   private:
    std::promise<void> release_;
    bool released_ = false;
    std::future<std::exception_ptr> settled_;
  };
};

TEST_F(PostgresPipeline, AnswersComeInOrderAndTheStatementsAfterAFailureAreSkipped) {
  Connection conn(url_);
  const Statement begin{"BEGIN", {}};
  const Statement a = insert("a", 1);
  const Statement again = insert("a", 2);
  const Statement count_rows{"SELECT count(*) FROM t", {}};
  std::vector<Answer> answers = conn.pipeline({&begin, &a, &count_rows, &again, &count_rows});
  ASSERT_EQ(answers.size(), 5u);
  ASSERT_TRUE(answers[1].result);
  EXPECT_EQ(answers[1].result->affected(), 1);
  ASSERT_TRUE(answers[2].result);
  EXPECT_EQ(answers[2].result->int64(0, 0), 1) << "the insert before it, in its transaction";
  EXPECT_TRUE(answers[3].error);
  EXPECT_FALSE(answers[3].skipped) << "the duplicate key is the failure itself";
  EXPECT_THROW(std::rethrow_exception(answers[3].error), StoreError);
  EXPECT_TRUE(answers[4].skipped);
  EXPECT_FALSE(answers[4].result);
  // The pipeline's BEGIN opened a transaction that has now failed: nothing of it is stored.
  EXPECT_FALSE(conn.idle());
  conn.exec("ROLLBACK");
  EXPECT_EQ(count(), 0);
  // The connection is out of pipeline mode and serves plain statements again.
  EXPECT_EQ(conn.run(a.sql, a.params).affected(), 1);
  EXPECT_EQ(count(), 1);
}

// Without BEGIN, the statements of a pipeline still form one transaction (an implicit one,
// ending with the pipeline): a failure undoes the statements before it too.
TEST_F(PostgresPipeline, WithoutBeginTheStatementsAreOneImplicitTransaction) {
  Connection conn(url_);
  const Statement a = insert("a", 1);
  const Statement again = insert("a", 2);
  const Statement b = insert("b", 1);
  std::vector<Answer> answers = conn.pipeline({&a, &again, &b});
  EXPECT_TRUE(answers[0].result);
  EXPECT_TRUE(answers[1].error);
  EXPECT_TRUE(answers[2].skipped);
  EXPECT_TRUE(conn.idle());
  EXPECT_EQ(count(), 0);
  answers = conn.pipeline({&a, &b});
  EXPECT_TRUE(answers[0].result && answers[1].result);
  EXPECT_EQ(count(), 2);
}

// Of a batch sent as one pipeline, a write whose statement fails is left out alone: the others
// are committed once each, and `then` sees its own write's results.
TEST_F(PostgresPipeline, AFailingWriteOfABatchFailsAloneAndTheOthersLandOnce) {
  GroupCommit writer(url_);
  ASSERT_EQ(submit(writer, Write{{insert("taken", 1)}, {}}).get(), nullptr);
  // Holds the writer, so that everything below is queued into one batch.
  Hold hold(writer);
  std::vector<std::future<std::exception_ptr>> settled;
  std::vector<std::shared_ptr<int64_t>> seen;
  for (int i = 0; i < 10; ++i) {
    const std::string k = "ok-" + std::to_string(i);
    auto affected = std::make_shared<int64_t>(-1);
    seen.push_back(affected);
    Write w{{insert(k, i)}, [affected](Connection&, std::vector<Result>& results) {
              *affected = results.at(0).affected();
            }};
    // Every third write also collides with the row already there.
    if (i % 3 == 0) w.statements.push_back(insert("taken", i));
    settled.push_back(submit(writer, std::move(w)));
  }
  EXPECT_EQ(hold.release(), nullptr);
  for (int i = 0; i < 10; ++i) {
    const std::exception_ptr error = settled[static_cast<std::size_t>(i)].get();
    EXPECT_EQ(error != nullptr, i % 3 == 0) << i;
    if (i % 3 != 0) {
      EXPECT_EQ(*seen[static_cast<std::size_t>(i)], 1) << i;
    }
  }
  EXPECT_EQ(count("k LIKE 'ok-%'"), 6);
  EXPECT_EQ(count("k = 'taken' AND v = 1"), 1);
  // The first write, the holding one, then the ten as one batch: its first run failed, its second
  // (each write in a savepoint) committed.
  EXPECT_EQ(writer.commits(), 3u);
}

// With two writer threads, a write queued while one writer is held in a slow transaction is
// committed by the other in the meantime; with one, it would wait for the slow one.
TEST_F(PostgresPipeline, AWriteQueuedWhileOneWriterIsBusyIsCommittedByAnother) {
  GroupCommit writer(url_, {}, 512, /*writers=*/2);
  Hold hold(writer, {insert("slow", 0)});
  auto quick = submit(writer, Write{{insert("quick", 1)}, {}});
  ASSERT_EQ(quick.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the second write waited for the first writer";
  EXPECT_EQ(quick.get(), nullptr);
  EXPECT_EQ(count("k = 'quick'"), 1);
  EXPECT_EQ(count("k = 'slow'"), 0) << "not committed while held";
  EXPECT_EQ(hold.release(), nullptr);
  EXPECT_EQ(count(), 2);
}

// A write with `gather` is built once, when a writer takes it into a batch: not when it is
// submitted, and not again when the batch runs again (here after another write failed).
TEST_F(PostgresPipeline, AGatheredWriteIsBuiltWhenTakenAndOnlyOnce) {
  GroupCommit writer(url_);
  ASSERT_EQ(submit(writer, Write{{insert("taken", 1)}, {}}).get(), nullptr);
  Hold hold(writer);
  std::atomic<int> builds{0};
  std::atomic<int> thens{0};
  std::string value = "before";  // read by the build, set below before the writer takes it
  Write gathered;
  gathered.gather = [&] {
    ++builds;
    return Write{{insert(value, 7)}, [&thens](Connection&, std::vector<Result>& results) {
                   if (results.at(0).affected() == 1) ++thens;
                 }};
  };
  auto settled = submit(writer, std::move(gathered));
  auto failing = submit(writer, Write{{insert("taken", 2)}, {}});
  value = "after";
  EXPECT_EQ(builds.load(), 0) << "built before a writer took it";
  EXPECT_EQ(hold.release(), nullptr);
  EXPECT_EQ(settled.get(), nullptr);
  EXPECT_NE(failing.get(), nullptr);
  EXPECT_EQ(builds.load(), 1);
  // The plain run stopped at the failing statement, before any `then`; the run with savepoints
  // sent the gathered statement again and ran its `then`.
  EXPECT_EQ(thens.load(), 1);
  EXPECT_EQ(count("k = 'after' AND v = 7"), 1);
  EXPECT_EQ(count("k = 'before'"), 0);
}

// WriteUnits: the parts added while the writer is busy make one unit, whose write is built once
// from all of them; a part added once that unit was taken goes into the next. A unit whose write
// fails fails every part in it.
TEST_F(PostgresPipeline, PartsQueuedTogetherMakeOneUnitAndShareItsOutcome) {
  struct Part {
    std::string k;
    std::shared_ptr<std::promise<std::exception_ptr>> answer;
  };
  GroupCommit writer(url_);
  std::mutex mu;
  std::vector<std::size_t> unit_sizes;
  WriteUnits<Part> units(
      writer,
      [&](const WriteUnits<Part>::Parts& parts) {
        {
          std::lock_guard<std::mutex> lock(mu);
          unit_sizes.push_back(parts->size());
        }
        Write w;
        for (const Part& p : *parts) w.statements.push_back(insert(p.k, 1));
        return w;
      },
      [](std::vector<Part>& parts, const std::exception_ptr& error) {
        for (Part& p : parts) p.answer->set_value(error);
      });
  auto add = [&units](const std::string& k) {
    auto answer = std::make_shared<std::promise<std::exception_ptr>>();
    auto future = answer->get_future();
    units.add(Part{k, answer});
    return future;
  };
  Hold hold(writer);
  std::vector<std::future<std::exception_ptr>> answers;
  for (int i = 0; i < 5; ++i) answers.push_back(add("unit-" + std::to_string(i)));
  EXPECT_EQ(hold.release(), nullptr);
  for (auto& a : answers) EXPECT_EQ(a.get(), nullptr);
  EXPECT_EQ(add("next").get(), nullptr);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(unit_sizes, (std::vector<std::size_t>{5, 1}));
  }
  EXPECT_EQ(count("k LIKE 'unit-%'"), 5);
  // Two parts naming one key: the unit's write fails, and so does every part of it.
  Hold hold_again(writer);
  auto fine = add("fine");
  auto twice = add("next");
  EXPECT_EQ(hold_again.release(), nullptr);
  EXPECT_NE(fine.get(), nullptr);
  EXPECT_NE(twice.get(), nullptr);
  EXPECT_EQ(count("k = 'fine'"), 0);
}

}  // namespace
}  // namespace latchkey::store::postgres
