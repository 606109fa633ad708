// RFC 7523 §3: the checks a JWT must pass that an app signs with the key of its registered
// certificate, whether it authenticates the client (§2.2, private_key_jwt) or is the
// authorization grant itself (§2.1, the JWT bearer grant). One verifier applies them in one
// order; each caller maps a failure to its own error (invalid_client at client
// authentication, invalid_grant at the grant; docs/behaviour.md §6 and §7).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "crypto/public_key_cache.h"
#include "oauth/jwt_claims.h"
#include "store/stores.h"

namespace latchkey::oauth {

// What differs between the two uses.
struct JwtAssertionRules {
  std::string_view purpose;            // keeps each use's jti apart in the ReplayStore
  std::vector<std::string> audiences;  // `aud` must contain one of these (§3 item 3), exactly
  int64_t max_lifetime_s = 0;          // exp at most this far ahead of now (plus skew_s)
  int64_t skew_s = 0;                  // clock skew allowed on exp and nbf
  // How exp and nbf may be written; converted to seconds before the checks above apply.
  TimeForm times = TimeForm::numeric_date;
  bool sub_is_client = false;  // §3 item 2 for client authentication: sub = iss
  bool jti_required = false;
  int64_t max_live_per_client = 0;  // store::ReplayStore::first_use
  // Whether the app that iss names may use this kind of assertion at all; checked before the
  // signature. Null: every app may.
  std::function<bool(const store::App&)> app_permitted;
};

// Which check an assertion failed, in the order they are made.
enum class JwtAssertionFailure {
  malformed,     // not a JWS, too large, no usable iss (or sub when sub_is_client), unreadable nbf
  other_client,  // iss is not the client the request otherwise names
  unknown_app,   // no app has the client id iss names
  no_certificate,       // the app has no registered certificate to verify with
  not_permitted,        // app_permitted refused the app
  bad_signature,        // not signed by the certificate's key with RS256/ES256
  certificate_expired,  // the certificate is outside its validity period
  audience,             // aud names none of rules.audiences
  no_exp,
  expired,
  exp_too_far,
  not_yet_valid,  // nbf is ahead of now (beyond the skew)
  no_jti,         // jti absent though rules.jti_required
  replayed,       // jti seen before while it could still be accepted
  over_quota,     // the app holds max_live_per_client live jti already
};

struct VerifiedJwtAssertion {
  store::App app;  // the app iss names, whose key signed it
  boost::json::object claims;
};

class JwtAssertionVerifier {
 public:
  JwtAssertionVerifier(store::AppStore& apps, store::ReplayStore& replays, const Clock& clock)
      : apps_(apps), replays_(replays), clock_(clock) {}

  // `expected_client_id`: the client the request names otherwise (empty: none). A jti is
  // recorded as used only once every other check has passed. Thread-safe.
  std::variant<VerifiedJwtAssertion, JwtAssertionFailure> verify(
      std::string_view assertion, const JwtAssertionRules& rules,
      std::string_view expected_client_id);

 private:
  store::AppStore& apps_;
  store::ReplayStore& replays_;
  const Clock& clock_;
  crypto::PublicKeyCache keys_;  // the apps' certificates, parsed once
};

}  // namespace latchkey::oauth
