#include "oauth/grants/jwt_bearer_grant.h"

#include "oauth/jwt_claims.h"

namespace latchkey::oauth {
namespace {

constexpr int64_t kMaxLifetimeS = 180;  // Salesforce: exp no more than 3 minutes ahead
constexpr int64_t kSkewS = 30;

Error invalid() { return Error::invalid_grant("invalid assertion"); }

}  // namespace

std::vector<std::string> JwtBearerGrant::accepted_audiences(
    const std::string& issuer_url, const std::vector<std::string>& aliases) {
  std::vector<std::string> out;
  auto add = [&out](std::string url) {
    if (!url.empty() && url.back() == '/') url.pop_back();
    if (url.empty()) return;
    out.push_back(url);
    out.push_back(url + "/");
  };
  add(issuer_url);
  for (const auto& a : aliases) add(a);
  return out;
}

Result<TokenOutcome> JwtBearerGrant::handle(const TokenRequest& req) {
  using F = JwtAssertionFailure;
  auto assertion = req.params.value("assertion");
  if (assertion.empty()) return Error::invalid_request("assertion is required");
  JwtAssertionRules rules;
  rules.purpose = "jwt_bearer";
  rules.audiences = audiences_;
  rules.max_lifetime_s = kMaxLifetimeS;
  rules.skew_s = kSkewS;
  rules.times = TimeForm::salesforce;
  // RFC 7523 §3 item 7: a jti is accepted once. Salesforce does not require one, nor do we.
  rules.max_live_per_client = max_live_per_client_;
  // A client that also authenticated must be the one the assertion names.
  std::string_view client =
      req.client.authenticated() ? std::string_view(req.client.app.client_id) : "";
  auto verified = assertions_.verify(assertion, rules, client);
  if (auto* ok = std::get_if<VerifiedJwtAssertion>(&verified)) {
    return subject_.issue(ok->app, claim_string(ok->claims, "sub"), req);
  }
  switch (std::get<F>(verified)) {
    case F::unknown_app:
      return Error::invalid_client("client identifier invalid");
    case F::no_certificate:
      return invalid().with_debug("app has no certificate");
    case F::certificate_expired:
      return invalid().with_debug("the app's certificate is outside its validity period");
    case F::audience:
      return Error::invalid_grant("audience is invalid");
    case F::expired:
      return Error::invalid_grant("expired authorization code");
    case F::exp_too_far:
      return invalid().with_debug("exp too far ahead");
    case F::replayed:
      return invalid().with_debug("jti replayed");
    case F::over_quota:
      return Error::invalid_grant("too many assertions; try again once earlier ones expire");
    case F::malformed:
    case F::other_client:
    case F::not_permitted:
    case F::bad_signature:
    case F::no_exp:
    case F::not_yet_valid:
    case F::no_jti:
      break;
  }
  return invalid();
}

}  // namespace latchkey::oauth
