#include "oauth/grants/assertion_subject.h"

#include "oauth/approval.h"
#include "token/scopes.h"

namespace latchkey::oauth {

Result<TokenOutcome> AssertionSubject::issue(const store::App& app, std::string_view username,
                                             const TokenRequest& req) {
  auto user = username.empty() || username.size() > 256
                  ? std::nullopt
                  : users_.find_user_by_username(std::string(username));
  if (!user || !user->active) {
    // Salesforce's description when the named user does not exist or cannot log in.
    return Error::invalid_grant("authentication failure").with_debug("unknown or inactive user");
  }
  if (!has_approved(apps_, consents_, app, *user)) {
    return Error::invalid_grant("user hasn't approved this consumer");
  }
  auto scopes = token::grant_scopes(req.params.value("scope"), app.scopes);
  if (!scopes) return std::move(scopes).error();
  GrantInput in{app, *user, std::move(scopes.value())};
  in.grant_type = req.params.value("grant_type");
  // The assertion names the app; what the request's client brings (its secret for the
  // signature, its certificate binding) applies only when that client is the same app.
  if (req.client.app.client_id == app.client_id) apply_client(in, req);
  return issue_tokens(issuer_, in);
}

}  // namespace latchkey::oauth
