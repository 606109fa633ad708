// POST /services/oauth2/token: parse, refuse repeated parameters, authenticate the client,
// dispatch by grant_type to the registered TokenGrantHandler (ARCHITECTURE.md).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "core/events.h"
#include "http/message.h"
#include "oauth/client_auth.h"
#include "oauth/grants/grant_handler.h"

namespace latchkey::oauth {

class TokenEndpoint {
 public:
  TokenEndpoint(ClientAuthenticator& clients, EventSink& events)
      : clients_(clients), events_(events) {}
  void add(std::unique_ptr<TokenGrantHandler> handler);
  http::Response handle(const http::Request& request);
  // grant_type values served, for discovery.
  std::vector<std::string> grant_types() const;

 private:
  // The error response, with its token_refused event.
  http::Response refused(const Error& e, std::string_view grant_type, std::string_view client_id,
                         std::string_view remote_addr, bool tried_basic);
  std::function<void(http::Response::Release)> awaiting(Deferred deferred,
                                                        const http::Request& request,
                                                        bool tried_basic);

  ClientAuthenticator& clients_;
  EventSink& events_;
  std::unordered_map<std::string, std::unique_ptr<TokenGrantHandler>> handlers_;
};

// Form body of a client-authenticated POST endpoint: method and content type checked,
// parameters parsed with duplicates refused.
Result<http::Params> form_of(const http::Request& request);

}  // namespace latchkey::oauth
