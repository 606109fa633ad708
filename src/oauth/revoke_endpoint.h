// /services/oauth2/revoke (RFC 7009): POST token=… or, as Salesforce allows, GET ?token=….
// Revoking a refresh token revokes every token of its family (its access tokens included).
// Unknown tokens answer 200 as RFC 7009 §2.2 requires, so the endpoint tells nothing.
#pragma once

#include "core/events.h"
#include "http/message.h"
#include "oauth/client_auth.h"
#include "store/stores.h"

namespace latchkey::oauth {

class RevokeEndpoint {
 public:
  RevokeEndpoint(store::TokenStore& tokens, ClientAuthenticator& clients, EventSink& events)
      : tokens_(tokens), clients_(clients), events_(events) {}
  http::Response handle(const http::Request& request);

 private:
  store::TokenStore& tokens_;
  ClientAuthenticator& clients_;
  EventSink& events_;
};

}  // namespace latchkey::oauth
