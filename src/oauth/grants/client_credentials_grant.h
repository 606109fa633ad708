// grant_type=client_credentials (RFC 6749 §4.4; docs/behaviour.md §5.8): only for apps with a
// run-as user (--client-credentials-user); the token acts as that user; never a refresh token. The
// run-as user must be active and, for an admin-approved app, pre-authorized: a user the app's
// approval model does not cover cannot use it in any flow.
#pragma once

#include "oauth/grants/grant_handler.h"
#include "oauth/token_issuer.h"
#include "store/stores.h"

namespace latchkey::oauth {

class ClientCredentialsGrant final : public TokenGrantHandler {
 public:
  ClientCredentialsGrant(store::AppStore& apps, store::UserStore& users, TokenIssuer& issuer)
      : apps_(apps), users_(users), issuer_(issuer) {}
  std::string_view grant_type() const override { return "client_credentials"; }
  Result<TokenOutcome> handle(const TokenRequest& request) override;

 private:
  store::AppStore& apps_;
  store::UserStore& users_;
  TokenIssuer& issuer_;
};

}  // namespace latchkey::oauth
