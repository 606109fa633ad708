// Protected user views: OIDC userinfo (OIDC Core §5.3) and the Salesforce identity URL
// GET /id/{orgId}/{userId}. Both answer a bad token with 401 INVALID_SESSION_ID, and a live
// token without the scope they require (oauth/scopes.h: userinfo `openid` or `full`, the
// identity URL `id`, a synonym of it, `openid` or `full`) with 403 insufficient_scope (RFC 6750
// §3.1). Userinfo returns only the claims the token's scopes allow (OIDC Core §5.4).
#pragma once

#include "http/message.h"
#include "store/stores.h"
#include "token/opaque_tokens.h"

namespace latchkey::oidc {

class UserEndpoints {
 public:
  UserEndpoints(const token::OpaqueTokens& tokens, store::UserStore& users, std::string issuer)
      : tokens_(tokens), users_(users), issuer_(std::move(issuer)) {}

  http::Response userinfo(const http::Request& request);
  // path is /id/{orgId}/{userId}
  http::Response identity(const http::Request& request);

 private:
  const token::OpaqueTokens& tokens_;
  store::UserStore& users_;
  std::string issuer_;
};

}  // namespace latchkey::oidc
