// The admin API's credentials (docs/admin-api.md "Tokens"): `latchkey admin-token create`
// makes one, shown once; the database keeps its SHA-256 only (store::AdminTokenStore). A
// request carries it as `Authorization: Bearer lka_…` (RFC 6750 §2.1); the token's name is the
// admin identity the audit log records for every change made with it.
//
// Thread safety: as the store's (every method may be called from any thread); no state here.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/random.h"
#include "core/result.h"
#include "store/stores.h"

namespace latchkey::app {

// What every admin token starts with, so that a leaked one is recognisable (secret scanners).
inline constexpr std::string_view kAdminTokenPrefix = "lka_";

class AdminTokens {
 public:
  AdminTokens(store::AdminTokenStore& store, Random& random, const Clock& clock)
      : store_(store), random_(random), clock_(clock) {}

  // {"name","token","created_ms"}: a new token of 256 random bits (43 base62 characters after
  // the prefix). A name is 1 to 64 visible ASCII characters; one taken is an error.
  Result<boost::json::object> create(const std::string& name);
  // {"admin_tokens":[{"name","created_ms"}…]}, by name; never a hash.
  boost::json::object list();
  // {"name","revoked":true}; an error for a name that has no token.
  Result<boost::json::object> revoke(const std::string& name);

  // The name of the token an `Authorization` header value carries ("Bearer lka_…", the scheme
  // case-insensitive), or nullopt. The presented token's hash is compared with every stored
  // one in constant time and without stopping at a match, so the answer's timing says nothing
  // of which hash, or how much of one, matched.
  std::optional<std::string> authenticate(std::string_view authorization);
  // The name of the stored token whose hash (crypto::sha256_hex of the token) is `token_hash`,
  // or nullopt once it was revoked; compared as authenticate() does. The admin console keeps
  // the hash in its session cookie and asks this on every request (app/admin_console.h).
  std::optional<std::string> name_of_hash(std::string_view token_hash);

 private:
  store::AdminTokenStore& store_;
  Random& random_;
  const Clock& clock_;
};

}  // namespace latchkey::app
