// OIDC Core §2 ID tokens, signed RS256 with the current key. `sub` is the Salesforce
// identity URL, as Salesforce does it, and equals userinfo's `sub` (OIDC Core §5.3.2).
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "oidc/current_key_ring.h"
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

// The Salesforce identity URL: {issuer}/id/{orgId}/{userId}.
std::string identity_url(std::string_view issuer, const store::User& user);

// OIDC Core §2 `acr` of a user who signed in at the login page with username and password,
// the one interactive authentication latchkey has. A URN of our own: the registered
// level-of-assurance URIs promise more (e.g. multi-factor) than a password gives.
inline constexpr std::string_view kPasswordAcr = "urn:latchkey:acr:password";

// OIDC Core §2 authentication claims, for ID tokens and RFC 9068 §2.2.1 JWT access tokens.
// auth_time_s > 0 means a user signed in interactively (at the login page, with a password):
// then auth_time, acr (kPasswordAcr) and amr ["pwd"] (RFC 8176 §2). Grants without an
// interactive login (JWT/SAML bearer, client credentials) pass 0 and get none; a refresh
// passes the time of the login its grant began with (OIDC Core §12.2), 0 if unknown.
void add_authentication_claims(boost::json::object& claims, int64_t auth_time_s);

// Left half of SHA-256, base64url (OIDC Core §3.1.3.6 at_hash, §3.3.2.11 c_hash).
std::string half_hash(std::string_view value);

// Profile claims of OIDC Core §5.1 that `scopes` allow, for both ID tokens and userinfo.
void add_profile_claims(boost::json::object& claims, const store::User& user,
                        const std::vector<std::string>& scopes);

class IdTokens {
 public:
  IdTokens(const CurrentKeyRing& keys, const Clock& clock, std::string issuer)
      : keys_(keys), clock_(clock), issuer_(std::move(issuer)) {}
  std::string make(const IdTokenInput& in) const;
  // The same token in two steps: the claims are taken now, the RS256 signature (about a third
  // of a millisecond of CPU) is made when the returned function runs, so that a caller can make
  // it on another thread. The function must not outlive this object.
  std::function<std::string()> make_later(const IdTokenInput& in) const;

 private:
  const CurrentKeyRing& keys_;
  const Clock& clock_;
  std::string issuer_;
};

}  // namespace latchkey::oidc
