#include "oauth/introspect_endpoint.h"

#include <boost/json.hpp>

#include "http/errors.h"
#include "token/scopes.h"
#include "oauth/token_endpoint.h"
#include "oidc/id_token.h"

namespace latchkey::oauth {

http::Response IntrospectEndpoint::handle(const http::Request& request) {
  auto params = form_of(request);
  if (!params) return http::token_error(params.error(), false);
  bool tried_basic = false;
  auto client = clients_.authenticate(request, *params, tried_basic);
  if (!client) return http::token_error(client.error(), tried_basic);
  if (!client->authenticated()) {
    return http::token_error(Error::invalid_client("invalid client credentials"), tried_basic);
  }
  auto token = params->value("token");
  if (token.empty()) return http::token_error(Error::invalid_request("token is required"), false);

  boost::json::object body{{"active", false}};
  auto t = tokens_.find_live(token);
  if (t && t->client_id == client->app.client_id) {
    auto user = users_.find_user(t->user_id);
    if (user && user->active) {
      body["active"] = true;
      body["scope"] = token::join_scopes(t->scopes);
      body["client_id"] = t->client_id;
      body["username"] = user->username;
      body["sub"] = token::identity_url(issuer_, *user);
      body["token_type"] = t->kind == store::TokenKind::access ? "access_token" : "refresh_token";
      if (t->expires_ms != 0) body["exp"] = t->expires_ms / 1000;
      body["iat"] = t->issued_ms / 1000;
      body["nbf"] = t->issued_ms / 1000;
      body["iss"] = issuer_;
      // RFC 8705 §3.2: the resource server checks the binding against its own connection.
      if (!t->cnf_x5t.empty()) body["cnf"] = boost::json::object{{"x5t#S256", t->cnf_x5t}};
    }
  }
  return http::token_json(boost::json::serialize(body));
}

}  // namespace latchkey::oauth
