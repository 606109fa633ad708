// OIDC Core §2 ID tokens, signed RS256 with the current key. `sub` is the Salesforce
// identity URL, as Salesforce does it, and equals userinfo's `sub` (OIDC Core §5.3.2).
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "keys/current_key_ring.h"
#include "token/claims.h"
#include "store/records.h"

namespace latchkey::oidc {

struct IdTokenInput {
  const store::App& app;
  const store::User& user;
  const std::vector<std::string>& scopes;
  std::string nonce;
  int64_t auth_time_s = 0;
  std::string access_token;  // for at_hash, may be empty
  std::string code;          // for c_hash (hybrid flow), may be empty
};

// Left half of SHA-256, base64url (OIDC Core §3.1.3.6 at_hash, §3.3.2.11 c_hash).
std::string half_hash(std::string_view value);

// Profile claims of OIDC Core §5.1 that `scopes` allow, for both ID tokens and userinfo.
void add_profile_claims(boost::json::object& claims, const store::User& user,
                        const std::vector<std::string>& scopes);

class IdTokens {
 public:
  IdTokens(const keys::CurrentKeyRing& keys, const Clock& clock, std::string issuer)
      : keys_(keys), clock_(clock), issuer_(std::move(issuer)) {}
  std::string make(const IdTokenInput& in) const;
  // The same token in two steps: the claims are taken now, the RS256 signature (about a third
  // of a millisecond of CPU) is made when the returned function runs, so that a caller can make
  // it on another thread. The function must not outlive this object.
  std::function<std::string()> make_later(const IdTokenInput& in) const;

 private:
  const keys::CurrentKeyRing& keys_;
  const Clock& clock_;
  std::string issuer_;
};

}  // namespace latchkey::oidc
