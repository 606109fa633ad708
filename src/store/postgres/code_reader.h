// Reads of authorization codes answered later and in batches (CodeStore::find_code_later): the
// reads queued while one batch is read form the next batch, read with one statement on a thread
// of the reader's own. A node exchanging thousands of codes a second so sends a statement per
// batch rather than one per code, and no request thread waits on a round trip for its code
// (docs/deployment.md, "What a node does per request").
//
// Thread safety: find_later may be called from any thread. The `done` callbacks run on the
// reader's thread, one after another in the order their reads were queued; a callback that
// blocks holds up the reads queued after it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "core/cond_var.h"
#include "core/mutex.h"
#include "store/stores.h"

namespace latchkey::store::postgres {

class CodeReader {
 public:
  // Reads the codes of these ids (distinct, at most max_batch) in one statement: the rows found,
  // in any order. Throws StoreError when the database does not answer.
  using ReadIds = std::function<std::vector<AuthCode>(const std::vector<int64_t>& ids)>;
  // Reads one code the way CodeStore::find_code does (a code found by hash has no id to batch).
  using ReadOne = std::function<std::optional<AuthCode>(const SecretRef& ref)>;

  CodeReader(ReadIds read_ids, ReadOne read_one, std::size_t max_batch);
  // Answers every read queued before, then ends the thread.
  ~CodeReader();
  CodeReader(const CodeReader&) = delete;
  CodeReader& operator=(const CodeReader&) = delete;

  // Queues the read of `ref`; `done` gets the code (nullopt if there is none with that id, or
  // its hash differs from ref.hash, compared in constant time) or the StoreError. Every read of
  // a batch that fails gets the error.
  void find_later(const SecretRef& ref, CodeStore::CodeFound done) EXCLUDES(mu_);

 private:
  struct Pending {
    SecretRef ref;
    CodeStore::CodeFound done;
  };
  void run() EXCLUDES(mu_);
  // Reads and answers one batch (at most max_batch_ reads), on the reader's thread.
  void answer(std::vector<Pending>& batch);

  const ReadIds read_ids_;
  const ReadOne read_one_;
  const std::size_t max_batch_;
  Mutex mu_;
  CondVar queued_;
  std::vector<Pending> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace latchkey::store::postgres
