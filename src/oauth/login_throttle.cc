#include "oauth/login_throttle.h"

#include <algorithm>
#include <string>

#include "core/ascii.h"

namespace latchkey::oauth {

LoginThrottle::Keys LoginThrottle::keys_of(std::string_view username, std::string_view address) {
  const std::string folded = to_ascii_lower(username);
  const std::string where = FailureThrottle::address_of(address);
  // The address first: it holds no '\n' (the HTTP layer or http::client_address made it), so
  // no two (address, username) pairs share a text. Keys are digests: length costs nothing.
  return {FailureThrottle::key_of("a+u:" + where + "\n" + folded),
          FailureThrottle::key_of("a:" + where), FailureThrottle::key_of("u:" + folded)};
}

LoginThrottle::LoginThrottle(const Clock& clock, std::size_t max_entries, int64_t max_delay_ms,
                             ThrottleRelay* relay)
    : user_and_address_(clock, max_entries, max_delay_ms, kFreePerUserAndAddress,
                        {"login.user_address", relay}),
      address_(clock, max_entries, max_delay_ms, kFreePerAddress, {"login.address", relay}),
      user_(clock, max_entries, max_delay_ms, kFreePerUser, {"login.user", relay}) {
  if (relay != nullptr) {
    for (FailureThrottle* t : {&user_and_address_, &address_, &user_}) relay->add(*t);
  }
}

int64_t LoginThrottle::wait_s(const Keys& keys) {
  int64_t wait =
      std::max(user_and_address_.wait_s(keys.user_and_address), address_.wait_s(keys.address));
  if (user_and_address_.failures(keys.user_and_address) > 0) {
    wait = std::max(wait, user_.wait_s(keys.user));
  }
  return wait;
}

void LoginThrottle::failure(const Keys& keys) {
  user_and_address_.failure(keys.user_and_address);
  address_.failure(keys.address);
  user_.failure(keys.user);
}

void LoginThrottle::success(const Keys& keys) {
  user_and_address_.success(keys.user_and_address);
  user_.success(keys.user);
}

std::size_t LoginThrottle::size() {
  return user_and_address_.size() + address_.size() + user_.size();
}

std::size_t LoginThrottle::key_bytes() {
  return user_and_address_.key_bytes() + address_.key_bytes() + user_.key_bytes();
}

}  // namespace latchkey::oauth
