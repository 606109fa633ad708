// POST /services/oauth2/token: parse, refuse repeated parameters, authenticate the client,
// dispatch by grant_type to the registered TokenGrantHandler (docs/design.md).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/events.h"
#include "http/message.h"
#include "oauth/client_auth.h"
#include "oauth/grants/grant_handler.h"

namespace latchkey::oauth {

class TokenEndpoint {
 public:
  // Runs a job on another thread. The endpoint signs ID tokens with it, while the token write
  // is made durable, so that the RSA signature does not hold up an I/O thread. Empty: they are
  // signed at once, on the thread that starts the response's wait.
  using Offload = std::function<void(std::function<void()>)>;

  TokenEndpoint(ClientAuthenticator& clients, EventSink& events, Offload offload = {})
      : clients_(clients), events_(events), offload_(std::move(offload)) {}
  void add(std::unique_ptr<TokenGrantHandler> handler);
  http::Response handle(const http::Request& request);
  // grant_type values served and advertised (TokenGrantHandler::advertised), for discovery.
  std::vector<std::string> grant_types() const;

 private:
  // The error response, with its token_refused event.
  http::Response refused(const Error& e, std::string_view grant_type, std::string_view client_id,
                         std::string_view remote_addr, std::string_view request_id,
                         bool tried_basic);
  // The answer of a grant that reads_later(): a response that awaits the grant's read, then its
  // write, holding no thread meanwhile.
  http::Response later(TokenGrantHandler& handler, const http::Request& request,
                       http::Params params, ClientAuth client, bool tried_basic);
  // The response's release: once the tokens' write settled and, if the body still lacks its ID
  // token, that is signed. `sent` is the body serialized already when there is nothing to sign.
  std::function<void(http::Response::Release)> awaiting(TokenOutcome outcome, bool sent,
                                                        const http::Request& request,
                                                        bool tried_basic);
  // The answer once everything awaited is done, with its events (`remote` and `request_id`
  // are the request's, which is gone by then).
  void answer(TokenOutcome& outcome, bool sent, const store::WriteOutcome& written,
              std::optional<std::string> id_token, const std::string& remote,
              const std::string& request_id, bool tried_basic,
              const http::Response::Release& release);

  ClientAuthenticator& clients_;
  EventSink& events_;
  Offload offload_;
  std::unordered_map<std::string, std::unique_ptr<TokenGrantHandler>> handlers_;
};

// Form body of a client-authenticated POST endpoint: method and content type checked,
// parameters parsed with duplicates refused.
Result<http::Params> form_of(const http::Request& request);

}  // namespace latchkey::oauth
