// Failed logins at the login page (SECURITY.md), limited so that guessing is slow but nobody
// can lock a user out, nor, behind a reverse proxy, everyone at once:
//
//  - per (username, address): 5 free failures, then a delay that doubles with each further
//    failure (1 s, 2 s, 4 s, … up to 15 minutes). This is what an attacker guessing one
//    user's password from one address meets; the user, signing in from anywhere else, does not.
//  - per address, whatever the username: 20 free, then doubling up to 15 minutes. One address
//    guessing at many users is slowed down too. Behind a reverse proxy every client would share
//    its address: `serve --trusted-proxy` makes the proxy's report the address
//    (http/client_address.h).
//  - per username, from any address: 100 free, then doubling up to 15 minutes; it slows
//    guessing spread over many addresses, and holds back only addresses that have already
//    failed for that username, so the user signing in from an address that never failed is
//    never refused by it (a distributed attacker gets one guess per fresh address).
//
// A success clears the (username, address) count and the username's, never the address's: an
// attacker with one valid account must not reset their address between guesses at others.
// Usernames are folded to ASCII lower case (they match case-insensitively), IPv6 addresses
// count by their /64 (FailureThrottle::address_of). Thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/clock.h"
#include "oauth/failure_throttle.h"
#include "oauth/throttle_relay.h"

namespace latchkey::oauth {

class LoginThrottle {
 public:
  static constexpr int kFreePerUserAndAddress = 5;
  static constexpr int kFreePerAddress = 20;
  static constexpr int kFreePerUser = 100;

  // The counters one attempt touches; derive once per attempt.
  struct Keys {
    FailureThrottle::Key user_and_address, address, user;
  };
  static Keys keys_of(std::string_view username, std::string_view address);

  // With a relay, the counts are shared with the other nodes (oauth/throttle_relay.h).
  explicit LoginThrottle(const Clock& clock, std::size_t max_entries = 50'000,
                         int64_t max_delay_ms = 15 * 60 * 1000, ThrottleRelay* relay = nullptr);

  // Seconds until this username may be tried from this address; 0 when it may be tried now.
  int64_t wait_s(const Keys& keys);
  void failure(const Keys& keys);
  void success(const Keys& keys);

  // Keys held in all three tables, and the bytes their keys take; for tests.
  std::size_t size();
  std::size_t key_bytes();

 private:
  FailureThrottle user_and_address_;
  FailureThrottle address_;
  FailureThrottle user_;
};

}  // namespace latchkey::oauth
