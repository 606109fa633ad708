// The admin console's session cookie and CSRF tokens (docs/admin-console.md "Sessions"). The
// cookie is stateless, so that it works on every node of an installation and needs no table:
//   base64url("v1\n" + SHA-256 hex of the admin token + "\n" + issued-at ms + "\n" + expiry ms
//             + "\n" + 128 random bits, so that no two sessions, nor their CSRF tokens, are alike)
//   + "." + base64url(HMAC-SHA256(key, "session\n" + that first part))
// under a key derived from the KEK (crypto::KeySealer::derive_key("admin console v1")), which
// every node has. It names no token: whether the token still exists is asked on every request
// (AdminTokens::name_of_hash), so revoking the token ends its sessions. A form's CSRF token is
// HMAC(key, "csrf\n" + cookie value) (RFC 9700 §4.7: bound to the browser's own session); the
// sign-in form's, made before there is a session, is bound to a random pre-session cookie.
//
// Thread safety: immutable after construction; every method may be called concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/random.h"

namespace latchkey::app {

// An absolute lifetime: a session ends 8 hours after sign-in, however busy.
inline constexpr int64_t kConsoleSessionMs = 8LL * 3600 * 1000;

class ConsoleSessions {
 public:
  // `key`: 32 bytes or more of secret (derive_key). `random` and `clock` must outlive this.
  ConsoleSessions(std::string key, Random& random, const Clock& clock)
      : key_(std::move(key)), random_(random), clock_(clock) {}

  // A new session's cookie value for the admin token whose hash is `token_hash`.
  std::string issue(std::string_view token_hash) const;
  // The token hash a cookie value carries when its MAC is this key's and it has not expired;
  // nullopt otherwise (the MAC compared in constant time).
  std::optional<std::string> open(std::string_view cookie) const;

  // The CSRF token of the forms of the session whose cookie value is `cookie`.
  std::string csrf(std::string_view cookie) const;
  // The CSRF token of the sign-in form, bound to a pre-session cookie's value.
  std::string login_csrf(std::string_view pre_session) const;
  // Whether `presented` equals `expected` (constant time; an empty one never matches).
  static bool matches(std::string_view presented, std::string_view expected);

 private:
  std::string mac(std::string_view purpose, std::string_view data) const;

  std::string key_;
  Random& random_;
  const Clock& clock_;
};

}  // namespace latchkey::app
