#include "store/postgres/code_reader.h"

#include <algorithm>
#include <exception>
#include <unordered_map>
#include <utility>

#include "crypto/crypto.h"

namespace latchkey::store::postgres {

CodeReader::CodeReader(ReadIds read_ids, ReadOne read_one, std::size_t max_batch)
    : read_ids_(std::move(read_ids)),
      read_one_(std::move(read_one)),
      max_batch_(std::max<std::size_t>(max_batch, 1)),
      thread_([this] { run(); }) {}

CodeReader::~CodeReader() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  queued_.notify_all();
  thread_.join();
}

void CodeReader::find_later(const SecretRef& ref, CodeStore::CodeFound done) {
  bool was_idle = false;
  {
    MutexLock lock(mu_);
    was_idle = queue_.empty();
    queue_.push_back({ref, std::move(done)});
  }
  // A reader busy with a batch takes this read with the next one, without being woken.
  if (was_idle) queued_.notify_one();
}

void CodeReader::run() {
  std::vector<Pending> batch;
  for (;;) {
    {
      MutexLock lock(mu_);
      while (queue_.empty() && !stopping_) queued_.wait(lock);
      if (queue_.empty()) return;  // stopping, and every read is answered
      if (queue_.size() <= max_batch_) {
        batch.swap(queue_);
      } else {
        const auto cut = queue_.begin() + static_cast<std::ptrdiff_t>(max_batch_);
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(cut));
        queue_.erase(queue_.begin(), cut);
      }
    }
    answer(batch);
    batch.clear();
  }
}

void CodeReader::answer(std::vector<Pending>& batch) {
  // The ids to read, each once (two requests may present the same code).
  std::vector<int64_t> ids;
  for (const Pending& p : batch) {
    if (p.ref.id != 0 && !p.ref.hash.empty()) ids.push_back(p.ref.id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::unordered_map<int64_t, AuthCode> found;
  std::exception_ptr error;
  if (!ids.empty()) {
    try {
      for (AuthCode& c : read_ids_(ids)) {
        const int64_t id = c.id;
        found.emplace(id, std::move(c));
      }
    } catch (...) {
      error = std::current_exception();
    }
  }
  for (Pending& p : batch) {
    std::optional<AuthCode> code;
    std::exception_ptr failed;
    if (p.ref.hash.empty()) {
      // Nothing can match an empty hash (as find_code).
    } else if (p.ref.id == 0) {
      try {
        code = read_one_(p.ref);
      } catch (...) {
        failed = std::current_exception();
      }
    } else if (error) {
      failed = error;
    } else if (auto it = found.find(p.ref.id);
               it != found.end() && crypto::constant_time_equal(it->second.code_hash, p.ref.hash)) {
      code = it->second;
    }
    try {
      p.done(std::move(code), failed);
    } catch (...) {
      // A callback must not throw (CodeStore::find_code_later); the reader keeps serving.
    }
  }
}

}  // namespace latchkey::store::postgres
