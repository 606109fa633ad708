// JWT access tokens (RFC 9068) for apps created with --token-format jwt: signed RS256 with
// the current key, header typ "at+jwt", so a resource server elsewhere can check them against
// the JWKS alone. --token-format jwt-sf gives the same token with header typ "JWT", as
// Salesforce's JWT-based access tokens have and the Salesforce CLI's `org login access-token`
// requires (docs/behaviour.md §5.12). latchkey itself still stores their SHA-256 like any token, so
// revocation and expiry at its own endpoints work exactly as for opaque tokens.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "keys/current_key_ring.h"
#include "store/records.h"

namespace latchkey::token {

class JwtAccessTokens {
 public:
  JwtAccessTokens(const keys::CurrentKeyRing& keys, Random& random, std::string issuer)
      : keys_(keys), random_(random), issuer_(std::move(issuer)) {}

  // iss, sub (the identity URL, like the ID token's), aud (the issuer: latchkey is its own
  // resource server), client_id, scope, iat, exp, jti (RFC 9068 §2.2); auth_time, acr and
  // amr when auth_time_s > 0 (§2.2.1, see token::add_authentication_claims); and
  // cnf {"x5t#S256": cnf_x5t} when the token is bound to a client certificate (RFC 8705 §3.1).
  // The header's typ follows app.token_format: "JWT" for jwt_sf, else "at+jwt".
  std::string make(const store::App& app, const store::User& user,
                   const std::vector<std::string>& scopes, int64_t issued_s, int64_t expires_s,
                   int64_t auth_time_s, std::string_view cnf_x5t = {}) const;

 private:
  const keys::CurrentKeyRing& keys_;
  Random& random_;
  std::string issuer_;
};

}  // namespace latchkey::token
