// The minimal protected REST surface: GET /services/data (the versions list, public as on
// Salesforce) and GET /services/data/vNN.N/ (the resource map, Bearer-protected, for tokens
// granted `api` or `full` of an active user; any other live token is 403 insufficient_scope, and
// a deactivated user's 401 as at userinfo), enough for clients
// that probe the API after login (jsforce, the Salesforce CLI).
#pragma once

#include "http/message.h"
#include "store/stores.h"
#include "token/opaque_tokens.h"

namespace latchkey::oidc {

class DataResources {
 public:
  DataResources(const token::OpaqueTokens& tokens, store::UserStore& users, std::string issuer)
      : tokens_(tokens), users_(users), issuer_(std::move(issuer)) {}
  http::Response versions(const http::Request& request) const;
  http::Response version_root(const http::Request& request) const;

 private:
  const token::OpaqueTokens& tokens_;
  store::UserStore& users_;
  std::string issuer_;
};

}  // namespace latchkey::oidc
