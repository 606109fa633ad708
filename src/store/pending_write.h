// A write that was queued and becomes durable (or fails) later, so that whoever holds the
// answer that depends on it can release that answer only once it is durable, without a thread
// waiting in between. Thread-safe.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace latchkey::store {

// What a redeeming write (Database::redeem_later) settles with when the code or refresh token
// it redeems was used up already: its tokens were not stored, and what that earlier use issued
// is revoked (durably, like any write).
struct AlreadyRedeemed : std::runtime_error {
  explicit AlreadyRedeemed(int revoked_tokens = 0)
      : std::runtime_error("already redeemed"), revoked(revoked_tokens) {}
  // Tokens this write revoked: 0 when there were none, or an earlier replay revoked them.
  int revoked = 0;
};

class PendingWrite {
 public:
  using Done = std::function<void(std::exception_ptr)>;

  // One that is settled already: for backends that write at once.
  static std::shared_ptr<PendingWrite> settled(std::exception_ptr error = nullptr);

  // Calls `done` exactly once: with null when the write is durable, else with its error. At
  // once on this thread if it is settled already, otherwise on the thread that settles it (so
  // `done` must be quick). One callback per write.
  void on_settled(Done done);
  // Blocks until settled; rethrows the error.
  void wait();
  // For the backend, once.
  void settle(std::exception_ptr error);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool settled_ = false;      // guarded by mu_
  std::exception_ptr error_;  // guarded by mu_
  Done done_;                 // guarded by mu_
};

}  // namespace latchkey::store
