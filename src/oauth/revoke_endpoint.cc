#include "oauth/revoke_endpoint.h"

#include "http/errors.h"
#include "oauth/token_endpoint.h"
#include "token/opaque_tokens.h"

namespace latchkey::oauth {

http::Response RevokeEndpoint::handle(const http::Request& request) {
  Result<http::Params> params =
      request.method == "GET" ? http::parse_form(request.query) : form_of(request);
  if (!params) return http::token_error(params.error(), false);
  auto token = params->value("token");
  if (token.empty()) return http::token_error(Error::invalid_request("token is required"), false);

  // A client that presents credentials must present good ones, and may revoke only its own
  // tokens (RFC 7009 §2.1). Without credentials, possession of the token is enough, as with
  // Salesforce's revoke endpoint. A client certificate from the TLS handshake with a client_id
  // is a credential too (RFC 8705 §2): the authenticator checks it exactly as at the token and
  // introspect endpoints.
  const bool presents_certificate =
      request.tls && !request.client_cert_der.empty() && params->has("client_id");
  std::string only_client;
  bool tried_basic = false;
  if (request.header("authorization") || params->has("client_secret") ||
      params->has("client_assertion") || presents_certificate) {
    auto client = clients_.authenticate(request, *params, tried_basic);
    if (!client) return http::token_error(client.error(), tried_basic);
    only_client = client->app.client_id;
  }
  if (token.size() <= 512) {
    auto t = tokens_.find_token(token::ref_of(token));
    if (t && (only_client.empty() || t->client_id == only_client)) {
      int n = t->kind == store::TokenKind::refresh ? tokens_.revoke_family(t->family_id)
                                                   : tokens_.revoke_token(t->ref());
      if (n > 0) {
        events_.emit({EventType::token_revoked, t->client_id, t->user_id,
                      t->kind == store::TokenKind::refresh ? "refresh_token" : "access_token",
                      clients_.client_address(request), request.request_id});
      }
    }
  }
  http::Response r;
  r.status = 200;
  http::no_store(r);
  return r;
}

}  // namespace latchkey::oauth
