#include "oauth/grants/saml_bearer_grant.h"

#include "crypto/certificate.h"
#include "crypto/jose.h"
#include "saml/saml_assertion.h"
#include "core/paths.h"

namespace latchkey::oauth {
namespace {

Error invalid() { return Error::invalid_grant("invalid assertion"); }

}  // namespace

Result<TokenOutcome> SamlBearerGrant::handle(const TokenRequest& req) {
  auto param = req.params.get("assertion");
  if (!param || param->empty()) return Error::invalid_request("assertion is required");
  auto xml = saml::decode_assertion_param(*param);
  if (!xml) return invalid();

  // The Issuer is read before verification only to find the key; every fact used below comes
  // from verify(), which reads them from the signed element alone.
  auto issuer = saml::peek_issuer(*xml);
  if (!issuer) return std::move(issuer).error();
  if (req.client.authenticated() && req.client.app.client_id != *issuer) return invalid();
  auto app = apps_.find_app(*issuer);
  if (!app) return Error::invalid_client("client identifier invalid");
  if (app->cert_pem.empty()) return invalid().with_debug("app has no certificate");

  int64_t now = clock_.now_s();
  auto key = keys_.get(app->cert_pem);
  auto validity = key ? key->validity() : std::nullopt;
  if (!key || (validity && !crypto::within_validity(*validity, now))) {
    return invalid().with_debug("the app's certificate is unreadable or outside its validity");
  }
  saml::Expectations e;
  e.issuer_client_id = app->client_id;
  e.audience = issuer_url_;
  e.recipient = issuer_url_ + paths::kToken;
  e.now_s = now;
  auto assertion = saml::verify(*xml, app->cert_pem, e);
  if (!assertion) return std::move(assertion).error();
  // RFC 7522 §3 item 7 allows refusing replays; an ID is remembered while it could be valid
  // (verify() caps that at kMaxLifetimeS past IssueInstant, so no row is kept for long).
  switch (replays_.first_use("saml_bearer " + app->client_id + " " + assertion->id, app->client_id,
                             (assertion->not_on_or_after_s + e.skew_s) * 1000, clock_.now_ms(),
                             max_live_per_client_)) {
    case store::ReplayStore::Use::first:
      break;
    case store::ReplayStore::Use::replayed:
      return invalid().with_debug("assertion replayed");
    case store::ReplayStore::Use::over_quota:
      return Error::invalid_grant("too many assertions; try again once earlier ones expire");
  }
  return subject_.issue(*app, assertion->name_id, req);
}

}  // namespace latchkey::oauth
