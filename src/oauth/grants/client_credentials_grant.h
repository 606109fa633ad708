// grant_type=client_credentials (RFC 6749 §4.4; CONTRACT §5.8): only for apps with a run-as
// user (--client-credentials-user); the token acts as that user; never a refresh token.
#pragma once

#include "oauth/grants/grant_handler.h"
#include "oauth/token_issuer.h"
#include "store/stores.h"

namespace latchkey::oauth {

class ClientCredentialsGrant final : public TokenGrantHandler {
 public:
  ClientCredentialsGrant(store::UserStore& users, TokenIssuer& issuer)
      : users_(users), issuer_(issuer) {}
  std::string_view grant_type() const override { return "client_credentials"; }
  Result<boost::json::object> handle(const TokenRequest& request) override;

 private:
  store::UserStore& users_;
  TokenIssuer& issuer_;
};

}  // namespace latchkey::oauth
