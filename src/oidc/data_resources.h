// The sliver of Salesforce's REST API that its own tools call after a login (the Salesforce CLI,
// jsforce; docs/behaviour.md §4), in Salesforce's JSON shapes:
//   GET /services/data                      the versions list (public, as on Salesforce)
//   GET /services/data/vNN.0[/]             the resource map
//   GET /services/data/vNN.0/query?q=SOQL   the SOQL subset of oidc/soql_query.h over the token's
//                                           org (Organization) and its users (User by Id)
//   GET /services/data/vNN.0/sobjects/User/{id}   one user of the token's org
// Everything below /services/data/ is Bearer-protected: tokens granted `api` or `full` of an
// active user; any other live token is 403 insufficient_scope, a deactivated user's and a bad
// token 401 INVALID_SESSION_ID. Query errors are 400 with Salesforce's MALFORMED_QUERY,
// INVALID_TYPE or INVALID_FIELD arrays; an unknown version, resource or record 404 NOT_FOUND.
// Reads only (through the stores given, the server's cache); thread-safe.
#pragma once

#include <string>

#include "http/message.h"
#include "store/stores.h"
#include "token/opaque_tokens.h"

namespace latchkey::oidc {

class DataResources {
 public:
  DataResources(const token::OpaqueTokens& tokens, store::OrgStore& orgs, store::UserStore& users,
                std::string issuer)
      : tokens_(tokens), orgs_(orgs), users_(users), issuer_(std::move(issuer)) {}
  http::Response versions(const http::Request& request) const;
  // Any path below /services/data/vNN.0.
  http::Response resource(const http::Request& request) const;

 private:
  http::Response query(const http::Request& request, const store::Token& bearer,
                       const std::string& base) const;
  http::Response user_record(const store::Token& bearer, const std::string& base,
                             std::string_view id) const;

  const token::OpaqueTokens& tokens_;
  store::OrgStore& orgs_;
  store::UserStore& users_;
  std::string issuer_;
};

}  // namespace latchkey::oidc
