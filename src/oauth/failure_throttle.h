// Failure limiting by key: the counters of failed logins (oauth/login_throttle.h combines three
// of them) and of failed client secrets per (client id, address) and per client id. After
// `free_failures` failures each further one doubles a lockout (1 s, 2 s, 4 s, ...), up to
// `max_lockout_ms`.
//
// Memory is bounded in entries and in bytes: every key is held as the SHA-256 of the text the
// caller passed, so a 64 KiB username costs the same 32 bytes as a short one, and the table
// holds at most `max_entries` keys. When it is full, a new key sheds the least recently
// active one (a list ordered by last failure makes that O(1), not a scan under the mutex).
// Digests also make the table's hashing immune to keys chosen to collide.
//
// Thread-safe: one mutex, held only for map and list operations.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/clock.h"
#include "core/mutex.h"

namespace latchkey::oauth {

using ThrottleKey = std::array<unsigned char, 32>;

// Where a throttle reports its own failures, and the successes that cleared a count, so that the
// other nodes of an installation count them too (oauth/throttle_relay.h). Called outside the
// throttle's lock, on the request's thread; must not block.
class FailureFeed {
 public:
  virtual ~FailureFeed() = default;
  virtual void publish(std::string_view throttle, const ThrottleKey& key, bool failed) = 0;
};

// How a throttle is shared with other nodes: when `feed` is set, `name` tells this table from
// the others in what the feed publishes (ThrottleRelay delivers other nodes' reports to the
// table of the same name there).
struct ThrottleSharing {
  std::string name;
  FailureFeed* feed = nullptr;
};

class FailureThrottle {
 public:
  using Key = ThrottleKey;
  // The SHA-256 of `text`; callers derive a key once and use it for every call of a request.
  static Key key_of(std::string_view text);
  // What "one client address" means for counting: an IPv4 address as it is, an IPv6 address
  // by its /64 (one subscriber's allocation, RFC 6177), so an attacker holding a whole prefix
  // does not get a fresh counter per address. Text that is no address is returned unchanged.
  // The server's per-address connection cap counts the same way (http::address_key).
  static std::string address_of(std::string_view remote_addr);

  explicit FailureThrottle(const Clock& clock, std::size_t max_entries = 50'000,
                           int64_t max_lockout_ms = 15 * 60 * 1000, int free_failures = 5,
                           ThrottleSharing sharing = {})
      : clock_(clock),
        max_entries_(max_entries == 0 ? 1 : max_entries),
        max_lockout_ms_(max_lockout_ms),
        free_failures_(free_failures < 1 ? 1 : free_failures),
        sharing_(std::move(sharing)) {}

  // Seconds until the key may try again; 0 when it may try now.
  int64_t wait_s(const Key& key);
  // A failure here: counted, and published to the feed.
  void failure(const Key& key);
  // A success here: the key's count is forgotten, and that is published if there was one.
  void success(const Key& key);
  // Another node's failure or clearing success, as the feed delivered it: counted the same way,
  // not published again.
  void failure_elsewhere(const Key& key) { count(key); }
  void success_elsewhere(const Key& key) { forget(key); }
  [[nodiscard]] const std::string& name() const { return sharing_.name; }
  // Failures counted for the key (0 once forgotten after an hour without one).
  int failures(const Key& key);
  int64_t wait_s(std::string_view text) { return wait_s(key_of(text)); }
  void failure(std::string_view text) { failure(key_of(text)); }
  void success(std::string_view text) { success(key_of(text)); }

  // Keys held, and the bytes their keys take (what an attacker controls); for tests and
  // metrics.
  std::size_t size();
  std::size_t key_bytes();

 private:
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      std::size_t h;
      std::memcpy(&h, k.data(), sizeof h);  // a digest is already uniformly spread
      return h;
    }
  };
  void count(const Key& key);
  bool forget(const Key& key);  // true if the key had a count

  using Lru = std::list<Key>;  // least recently failed first
  struct Entry {
    int failures = 0;
    int64_t locked_until_ms = 0;
    int64_t last_ms = 0;
    Lru::iterator lru;
  };
  const Clock& clock_;
  const std::size_t max_entries_;
  const int64_t max_lockout_ms_;
  const int free_failures_;
  const ThrottleSharing sharing_;
  Mutex mu_;
  std::unordered_map<Key, Entry, KeyHash> entries_ GUARDED_BY(mu_);
  Lru lru_ GUARDED_BY(mu_);
};

}  // namespace latchkey::oauth
