#include "oauth/grants/client_credentials_grant.h"

#include "oauth/approval.h"
#include "token/scopes.h"

namespace latchkey::oauth {

Result<TokenOutcome> ClientCredentialsGrant::handle(const TokenRequest& req) {
  // RFC 6749 §4.4: confidential clients only.
  if (!req.client.authenticated()) return Error::invalid_client("invalid client credentials");
  const store::App& app = req.client.app;
  if (app.client_credentials_user_id.empty()) {
    return Error::invalid_grant("no client credentials user enabled");
  }
  auto user = users_.find_user(app.client_credentials_user_id);
  if (!user) return Error::invalid_grant("no client credentials user enabled");
  // Salesforce answers a run-as user who can no longer log in with "authentication failure".
  if (!user->active) {
    return Error::invalid_grant("authentication failure").with_debug("run-as user inactive");
  }
  // Nobody asks the run-as user, so an approval recorded in the web flow does not matter; what
  // does is the admin's: an admin-approved app is usable only by users it pre-authorized.
  if (!may_use(apps_, app, *user)) {
    return Error::invalid_grant("user hasn't approved this consumer")
        .with_debug("run-as user not pre-authorized");
  }
  auto scopes = token::grant_scopes(req.params.value("scope"), app.scopes);
  if (!scopes) return std::move(scopes).error();
  GrantInput in{app, *user, std::move(scopes.value())};
  in.grant_type = "client_credentials";
  in.with_id_token = false;  // no end-user authentication happened
  apply_client(in, req);
  return issue_tokens(issuer_, in);
}

}  // namespace latchkey::oauth
