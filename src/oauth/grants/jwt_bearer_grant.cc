#include "oauth/grants/jwt_bearer_grant.h"

#include "crypto/certificate.h"
#include "crypto/jose.h"
#include "oauth/jwt_claims.h"

namespace latchkey::oauth {
namespace {

constexpr int64_t kMaxLifetimeS = 180;  // Salesforce: exp no more than 3 minutes ahead
constexpr int64_t kSkewS = 30;
constexpr std::size_t kMaxAssertion = 32 * 1024;  // docs/behaviour.md §6

Error invalid() { return Error::invalid_grant("invalid assertion"); }

}  // namespace

Result<TokenOutcome> JwtBearerGrant::handle(const TokenRequest& req) {
  auto assertion = req.params.value("assertion");
  if (assertion.empty()) return Error::invalid_request("assertion is required");
  if (assertion.size() > kMaxAssertion) return invalid();
  auto jwt = crypto::decode_jwt(assertion);
  if (!jwt) return invalid();
  const auto& c = jwt->claims;

  std::string iss = claim_string(c, "iss");
  if (iss.empty() || iss.size() > 256) return invalid();
  // A client that also authenticated must be the one the assertion names.
  if (!req.client.app.client_id.empty() && req.client.authenticated() &&
      req.client.app.client_id != iss) {
    return invalid();
  }
  auto app = apps_.find_app(iss);
  if (!app) return Error::invalid_client("client identifier invalid");
  if (app->cert_pem.empty()) return invalid().with_debug("app has no certificate");
  auto key = keys_.get(app->cert_pem);
  // verify_jwt allows only RS256/ES256 matching the key: alg none and HMAC never verify.
  if (!key || !crypto::verify_jwt(*jwt, *key)) return invalid();
  int64_t now = clock_.now_s();
  if (auto v = key->validity(); v && !crypto::within_validity(*v, now)) {
    return invalid().with_debug("the app's certificate is outside its validity period");
  }

  if (!audience_matches(c, {issuer_url_})) return Error::invalid_grant("audience is invalid");
  auto exp = claim_time(c, "exp");
  if (!exp) return invalid();
  if (*exp <= now - kSkewS) return Error::invalid_grant("expired authorization code");
  if (*exp > now + kMaxLifetimeS + kSkewS) return invalid().with_debug("exp too far ahead");
  if (auto nbf = claim_time(c, "nbf"); nbf && *nbf > now + kSkewS) return invalid();
  // RFC 7523 §3 item 7: a jti is accepted once while the assertion could be accepted at all
  // (until exp plus the skew allowed above). Salesforce does not require one, nor do we.
  if (auto jti = claim_string(c, "jti"); !jti.empty()) {
    switch (replays_.first_use("jwt_bearer " + iss + " " + jti, app->client_id,
                               (*exp + kSkewS) * 1000, clock_.now_ms(), max_live_per_client_)) {
      case store::ReplayStore::Use::first:
        break;
      case store::ReplayStore::Use::replayed:
        return invalid().with_debug("jti replayed");
      case store::ReplayStore::Use::over_quota:
        return Error::invalid_grant("too many assertions; try again once earlier ones expire");
    }
  }

  return subject_.issue(*app, claim_string(c, "sub"), req);
}

}  // namespace latchkey::oauth
