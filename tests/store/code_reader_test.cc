// The PostgreSQL backend's batched code reads (store/postgres/code_reader.h), with the database
// replaced by a function the test controls: the reads queued while a batch is read share the
// next statement, a batch holds at most max_batch reads, a failed batch fails its own reads
// only, and closing answers every read queued.
#include "store/postgres/code_reader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/cond_var.h"
#include "core/mutex.h"

namespace latchkey::store::postgres {
namespace {

using std::chrono::seconds;

// A stand-in for the database: every statement's ids are recorded, and the first statement
// waits until the test lets it finish, so that reads queue meanwhile.
class FakeCodes {
 public:
  CodeReader::ReadIds read_ids() {
    return [this](const std::vector<int64_t>& ids) {
      MutexLock lock(mu_);
      statements_.push_back(ids);
      changed_.notify_all();
      while (hold_first_ && statements_.size() == 1) changed_.wait(lock);
      if (fail_next_) {
        fail_next_ = false;
        throw StoreError("postgres: connection lost");
      }
      std::vector<AuthCode> out;
      for (int64_t id : ids) out.push_back(code(id));
      return out;
    };
  }
  static CodeReader::ReadOne read_one() {
    return [](const SecretRef&) { return std::optional<AuthCode>(); };
  }
  static AuthCode code(int64_t id) {
    AuthCode c;
    c.id = id;
    c.code_hash = "hash-" + std::to_string(id);
    return c;
  }
  void wait_for_first_statement() {
    MutexLock lock(mu_);
    while (statements_.empty()) changed_.wait(lock);
  }
  void let_first_finish() {
    MutexLock lock(mu_);
    hold_first_ = false;
    changed_.notify_all();
  }
  void fail_next() {
    MutexLock lock(mu_);
    fail_next_ = true;
  }
  std::vector<std::vector<int64_t>> statements() {
    MutexLock lock(mu_);
    return statements_;
  }

 private:
  Mutex mu_;
  CondVar changed_;
  std::vector<std::vector<int64_t>> statements_ GUARDED_BY(mu_);
  bool hold_first_ GUARDED_BY(mu_) = true;
  bool fail_next_ GUARDED_BY(mu_) = false;
};

struct Answer {
  std::optional<AuthCode> code;
  bool failed = false;
};

// Queues the read of code `id` (with its right hash unless `hash` is given) and returns where
// its answer will be.
std::future<Answer> ask(CodeReader& reader, int64_t id, std::string hash = "") {
  auto promise = std::make_shared<std::promise<Answer>>();
  auto answer = promise->get_future();
  if (hash.empty()) hash = "hash-" + std::to_string(id);
  reader.find_later({id, hash}, [promise](std::optional<AuthCode> code, std::exception_ptr error) {
    promise->set_value({std::move(code), error != nullptr});
  });
  return answer;
}

Answer get(std::future<Answer>& f) {
  if (f.wait_for(seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "never answered";
    return {std::nullopt, true};
  }
  return f.get();
}

TEST(CodeReader, ReadsQueuedWhileABatchIsReadShareTheNextStatement) {
  FakeCodes db;
  CodeReader reader(db.read_ids(), FakeCodes::read_one(), 256);
  std::vector<std::future<Answer>> answers;
  answers.push_back(ask(reader, 1));
  db.wait_for_first_statement();
  for (int64_t id = 2; id <= 21; ++id) answers.push_back(ask(reader, id));
  answers.push_back(ask(reader, 5));  // the same code twice: read once
  db.let_first_finish();
  for (std::size_t i = 0; i < answers.size(); ++i) {
    Answer a = get(answers[i]);
    ASSERT_TRUE(a.code) << i;
    EXPECT_FALSE(a.failed);
    EXPECT_EQ(a.code->id, i < 21 ? static_cast<int64_t>(i) + 1 : 5);
  }
  const auto statements = db.statements();
  ASSERT_EQ(statements.size(), 2u);
  EXPECT_EQ(statements[0], std::vector<int64_t>{1});
  std::vector<int64_t> rest;
  for (int64_t id = 2; id <= 21; ++id) rest.push_back(id);
  EXPECT_EQ(statements[1], rest);
}

TEST(CodeReader, ABatchHoldsAtMostMaxBatchReads) {
  FakeCodes db;
  CodeReader reader(db.read_ids(), FakeCodes::read_one(), 8);
  std::vector<std::future<Answer>> answers;
  answers.push_back(ask(reader, 1));
  db.wait_for_first_statement();
  for (int64_t id = 2; id <= 21; ++id) answers.push_back(ask(reader, id));
  db.let_first_finish();
  for (auto& a : answers) EXPECT_TRUE(get(a).code);
  std::vector<std::size_t> sizes;
  for (const auto& s : db.statements()) sizes.push_back(s.size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{1, 8, 8, 4}));
}

TEST(CodeReader, AFailedBatchFailsItsOwnReadsOnly) {
  FakeCodes db;
  CodeReader reader(db.read_ids(), FakeCodes::read_one(), 256);
  auto first = ask(reader, 1);
  db.wait_for_first_statement();
  db.fail_next();
  db.let_first_finish();
  Answer failed = get(first);
  EXPECT_TRUE(failed.failed);
  EXPECT_FALSE(failed.code);
  auto next = ask(reader, 2);
  Answer ok = get(next);
  EXPECT_FALSE(ok.failed);
  ASSERT_TRUE(ok.code);
  EXPECT_EQ(ok.code->id, 2);
}

TEST(CodeReader, AHashThatDiffersFindsNothing) {
  FakeCodes db;
  db.let_first_finish();
  CodeReader reader(db.read_ids(), FakeCodes::read_one(), 256);
  auto answer = ask(reader, 7, "hash-8");
  Answer a = get(answer);
  EXPECT_FALSE(a.code);
  EXPECT_FALSE(a.failed);
}

TEST(CodeReader, ClosingAnswersEveryQueuedRead) {
  FakeCodes db;
  std::vector<std::future<Answer>> answers;
  {
    CodeReader reader(db.read_ids(), FakeCodes::read_one(), 256);
    answers.push_back(ask(reader, 1));
    db.wait_for_first_statement();
    for (int64_t id = 2; id <= 5; ++id) answers.push_back(ask(reader, id));
    db.let_first_finish();
  }  // closed with reads queued
  for (auto& a : answers) {
    ASSERT_EQ(a.wait_for(seconds(0)), std::future_status::ready);
    EXPECT_TRUE(a.get().code);
  }
}

}  // namespace
}  // namespace latchkey::store::postgres
