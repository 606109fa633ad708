#include "oauth/jwt_assertion.h"

#include "crypto/certificate.h"
#include "crypto/jose.h"
#include "oauth/jwt_claims.h"

namespace latchkey::oauth {
namespace {

constexpr std::size_t kMaxAssertion = 32 * 1024;  // docs/behaviour.md §6
constexpr std::size_t kMaxClientId = 256;

bool audience_in(const boost::json::object& claims, const std::vector<std::string>& accepted) {
  for (const auto& a : accepted) {
    if (audience_matches(claims, {a})) return true;
  }
  return false;
}

}  // namespace

std::variant<VerifiedJwtAssertion, JwtAssertionFailure> JwtAssertionVerifier::verify(
    std::string_view assertion, const JwtAssertionRules& rules,
    std::string_view expected_client_id) {
  using F = JwtAssertionFailure;
  if (assertion.empty() || assertion.size() > kMaxAssertion) return F::malformed;
  auto jwt = crypto::decode_jwt(assertion);
  if (!jwt) return F::malformed;
  const auto& c = jwt->claims;
  // §3 item 1: iss names the client, the app whose key signs.
  std::string iss = claim_string(c, "iss");
  if (iss.empty() || iss.size() > kMaxClientId) return F::malformed;
  if (rules.sub_is_client && claim_string(c, "sub") != iss) return F::malformed;
  if (!expected_client_id.empty() && expected_client_id != iss) return F::other_client;
  auto app = apps_.find_app(iss);
  if (!app) return F::unknown_app;
  if (app->cert_pem.empty()) return F::no_certificate;
  if (rules.app_permitted && !rules.app_permitted(*app)) return F::not_permitted;
  auto key = keys_.get(app->cert_pem);
  // verify_jwt allows only RS256/ES256 matching the key: alg none and HMAC never verify.
  if (!key || !crypto::verify_jwt(*jwt, *key)) return F::bad_signature;
  const int64_t now = clock_.now_s();
  // The registered certificate is the credential: once it has expired (or before it is valid)
  // a signature made with its key proves nothing.
  if (auto v = key->validity(); v && !crypto::within_validity(*v, now)) {
    return F::certificate_expired;
  }
  if (!audience_in(c, rules.audiences)) return F::audience;
  // §3 items 4 and 5: exp is required, and bounded so that a jti need only be remembered that
  // long.
  auto exp = claim_time(c, "exp", rules.times);
  if (!exp) return F::no_exp;
  if (*exp <= now - rules.skew_s) return F::expired;
  if (*exp > now + rules.max_lifetime_s + rules.skew_s) return F::exp_too_far;
  // An nbf that is there but cannot be read might say "not yet": refused, never ignored.
  if (c.contains("nbf")) {
    auto nbf = claim_time(c, "nbf", rules.times);
    if (!nbf) return F::malformed;
    if (*nbf > now + rules.skew_s) return F::not_yet_valid;
  }
  // §3 item 7: a jti is accepted once while the assertion could be accepted at all (until exp
  // plus the skew), in the database, so that every process sharing it agrees.
  std::string jti = claim_string(c, "jti");
  if (jti.empty()) {
    if (rules.jti_required) return F::no_jti;
  } else {
    std::string key_text = std::string(rules.purpose) + " " + iss + " " + jti;
    switch (replays_.first_use(key_text, app->client_id, (*exp + rules.skew_s) * 1000,
                               clock_.now_ms(), rules.max_live_per_client)) {
      case store::ReplayStore::Use::first:
        break;
      case store::ReplayStore::Use::replayed:
        return F::replayed;
      case store::ReplayStore::Use::over_quota:
        return F::over_quota;
    }
  }
  return VerifiedJwtAssertion{std::move(*app), std::move(jwt->claims)};
}

}  // namespace latchkey::oauth
