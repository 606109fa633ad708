// Failure counts shared by the nodes of one installation (docs/deployment.md): each node's
// throttles (failed logins, oauth/login_throttle.h; failed client secrets, oauth/client_auth.h)
// publish their failures, and the successes that cleared a count, through the relay, which
// announces them on the database (store::ChangeBoard); every other node's relay hears them
// (app/change_follower.h) and counts them in its throttle of the same name. So guesses spread
// over N nodes meet the limits one node would set, give or take the guesses made while an
// announcement is on its way (milliseconds). A node that starts later begins with empty counts,
// as a restarted single node does.
//
// Announcement key: "<node id>:<sequence>:<throttle name>:<f|s>:<64 hex of the key's digest>",
// the sequence counting this node's announcements (PostgreSQL would deliver identical ones made
// in one transaction only once). A relay
// ignores its own announcements (it counted those already) and anything malformed. The digests
// are SHA-256 of usernames, addresses and client ids (FailureThrottle::key_of), never the text.
//
// Thread safety: add() only while the server is being built; publish() and hear() from any
// thread afterwards.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/random.h"
#include "oauth/failure_throttle.h"
#include "store/stores.h"

namespace latchkey::oauth {

class ThrottleRelay final : public FailureFeed {
 public:
  // `random` draws this process's node id.
  ThrottleRelay(store::ChangeBoard& board, Random& random);

  // Delivers what other nodes report for the throttle's name to it. The throttle must outlive
  // the relay's use and have been built with this relay as its feed.
  void add(FailureThrottle& throttle);

  void publish(std::string_view throttle, const ThrottleKey& key, bool failed) override;
  // An announcement of Kind::throttle heard from the database: true if it was another node's
  // report for a throttle this relay knows, and counted.
  bool hear(const store::Change& change);

  [[nodiscard]] const std::string& node_id() const { return node_id_; }

 private:
  store::ChangeBoard& board_;
  const std::string node_id_;
  std::unordered_map<std::string, FailureThrottle*> throttles_;
  std::atomic<uint64_t> sequence_{0};
};

}  // namespace latchkey::oauth
