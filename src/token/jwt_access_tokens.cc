#include "token/jwt_access_tokens.h"

#include "core/ids.h"
#include "crypto/jose.h"
#include "token/claims.h"

namespace latchkey::token {

std::string JwtAccessTokens::make(const store::App& app, const store::User& user,
                                  const std::vector<std::string>& scopes, int64_t issued_s,
                                  int64_t expires_s, int64_t auth_time_s,
                                  std::string_view cnf_x5t) const {
  std::string scope;
  for (const auto& s : scopes) scope += (scope.empty() ? "" : " ") + s;
  boost::json::object c{
      {"iss", issuer_},
      {"sub", token::identity_url(issuer_, user)},
      {"aud", issuer_},
      {"client_id", app.client_id},
      {"scope", scope},
      {"iat", issued_s},
      {"exp", expires_s},
      // The jti also makes every token unique, so its stored hash is unique.
      {"jti", random_base62(random_, 24)},
  };
  token::add_authentication_claims(c, auth_time_s);  // RFC 9068 §2.2.1
  // RFC 8705 §3.1: a resource server that checks the JWT alone must also learn the binding,
  // or it would accept the token from anyone holding it.
  if (!cnf_x5t.empty()) c["cnf"] = boost::json::object{{"x5t#S256", cnf_x5t}};
  // RFC 9068 §2.1: typ "at+jwt" keeps access tokens from being taken for ID tokens. Salesforce's
  // typ "JWT" does not; the claims still tell them apart (an access token has client_id and
  // scope, and the issuer as aud; an ID token the client id as aud), and latchkey's endpoints
  // take only tokens they find stored (token/bearer.h), which ID tokens never are.
  const auto ring = keys_.current();
  const std::string_view typ = app.token_format == store::TokenFormat::jwt_sf ? "JWT" : "at+jwt";
  return crypto::sign_jwt(ring->signing_key("RS256"), c, typ);
}

}  // namespace latchkey::token
