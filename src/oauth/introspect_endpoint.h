// POST /services/oauth2/introspect (RFC 7662), client-authenticated. A client learns about
// its own tokens only; any other token is {"active":false}. token_type uses Salesforce's
// values "access_token" / "refresh_token".
#pragma once

#include "http/message.h"
#include "oauth/client_auth.h"
#include "store/stores.h"
#include "token/opaque_tokens.h"

namespace latchkey::oauth {

class IntrospectEndpoint {
 public:
  IntrospectEndpoint(token::OpaqueTokens& tokens, store::UserStore& users,
                     ClientAuthenticator& clients, std::string issuer)
      : tokens_(tokens), users_(users), clients_(clients), issuer_(std::move(issuer)) {}
  http::Response handle(const http::Request& request);

 private:
  token::OpaqueTokens& tokens_;
  store::UserStore& users_;
  ClientAuthenticator& clients_;
  std::string issuer_;
};

}  // namespace latchkey::oauth
