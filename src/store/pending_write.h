// A write that was queued and becomes durable (or fails) later, so that whoever holds the
// answer that depends on it can release that answer only once it is durable, without a thread
// waiting in between. Thread-safe.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "core/cond_var.h"
#include "core/mutex.h"

namespace latchkey::store {

// How a queued write ended. Only `durable` lets an answer that depends on the write go out.
struct WriteOutcome {
  enum class Status {
    durable,           // committed and durable
    already_redeemed,  // a redeeming write (TokenStore::redeem_later) found its code or refresh
                       // token used up: its tokens were not stored, and what the earlier use
                       // issued is revoked (durably, like any write)
    failed             // not written (I/O error, or the outcome of the commit is unknown)
  };
  Status status = Status::durable;
  int revoked = 0;    // already_redeemed: tokens this write revoked (0 when an earlier replay
                      // had revoked them already)
  std::string error;  // failed: why, for the log; never sent to a client

  static WriteOutcome redeemed_before(int revoked_tokens) {
    return {Status::already_redeemed, revoked_tokens, {}};
  }
  static WriteOutcome failed_because(std::string why) {
    return {Status::failed, 0, std::move(why)};
  }
  // `failed` with the exception's what(), or `durable` for a null pointer.
  static WriteOutcome of(const std::exception_ptr& error);
  bool is_durable() const { return status == Status::durable; }
};

class PendingWrite {
 public:
  using Done = std::function<void(const WriteOutcome&)>;

  // One that is settled already: for writes made at once.
  static std::shared_ptr<PendingWrite> settled(const WriteOutcome& outcome = {});

  // Calls `done` exactly once with the outcome: at once on this thread if it is settled
  // already, otherwise on the thread that settles it (so `done` must be quick). One callback
  // per write.
  void on_settled(Done done) EXCLUDES(mu_);
  // Blocks until settled.
  WriteOutcome wait() EXCLUDES(mu_);
  // For the backend, once.
  void settle(const WriteOutcome& outcome) EXCLUDES(mu_);

 private:
  Mutex mu_;
  CondVar settled_cv_;  // wait() waits here for settle()
  bool settled_ GUARDED_BY(mu_) = false;
  WriteOutcome outcome_ GUARDED_BY(mu_);
  Done done_ GUARDED_BY(mu_);
};

}  // namespace latchkey::store
