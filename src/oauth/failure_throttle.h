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
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "core/mutex.h"

namespace latchkey::oauth {

class FailureThrottle {
 public:
  using Key = std::array<unsigned char, 32>;
  // The SHA-256 of `text`; callers derive a key once and use it for every call of a request.
  static Key key_of(std::string_view text);
  // What "one client address" means for counting: an IPv4 address as it is, an IPv6 address
  // by its /64 (one subscriber's allocation, RFC 6177), so an attacker holding a whole prefix
  // does not get a fresh counter per address. Text that is no address is returned unchanged.
  // The server's per-address connection cap counts the same way (http::address_key).
  static std::string address_of(std::string_view remote_addr);

  explicit FailureThrottle(const Clock& clock, std::size_t max_entries = 50'000,
                           int64_t max_lockout_ms = 15 * 60 * 1000, int free_failures = 5)
      : clock_(clock),
        max_entries_(max_entries == 0 ? 1 : max_entries),
        max_lockout_ms_(max_lockout_ms),
        free_failures_(free_failures < 1 ? 1 : free_failures) {}

  // Seconds until the key may try again; 0 when it may try now.
  int64_t wait_s(const Key& key);
  void failure(const Key& key);
  void success(const Key& key);
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
  Mutex mu_;
  std::unordered_map<Key, Entry, KeyHash> entries_ GUARDED_BY(mu_);
  Lru lru_ GUARDED_BY(mu_);
};

}  // namespace latchkey::oauth
