// One class per grant type behind this interface; the token endpoint dispatches by
// grant_type after parsing, duplicate checks and client authentication (ARCHITECTURE.md).
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <string_view>

#include "core/result.h"
#include "http/message.h"
#include "http/params.h"
#include "oauth/client_auth.h"
#include "oauth/token_issuer.h"
#include "store/pending_write.h"

namespace latchkey::oauth {

struct TokenRequest {
  const http::Request& http;
  const http::Params& params;
  const ClientAuth& client;
  // Where the grant leaves its token write (GrantInput::durable) for the endpoint to await.
  std::shared_ptr<store::PendingWrite>* durable = nullptr;
};

// What a grant's tokens take from the client that asked for them: the secret (for
// `signature`), the certificate binding (RFC 8705 §3; a public client's refresh token too,
// §4) and where the token write is left for the endpoint to await.
inline void apply_client(GrantInput& in, const TokenRequest& req) {
  in.client_secret = req.client.secret;
  in.cnf_x5t = req.client.cnf_x5t;
  in.public_client = !req.client.authenticated();
  in.durable = req.durable;
}

class TokenGrantHandler {
 public:
  virtual ~TokenGrantHandler() = default;
  virtual std::string_view grant_type() const = 0;
  // Bearer assertion grants (RFC 7521 §4.1) name their client inside the assertion, so the
  // request may carry no client identification at all.
  virtual bool client_named_by_assertion() const { return false; }
  // The token response body on success.
  virtual Result<boost::json::object> handle(const TokenRequest& request) = 0;
};

}  // namespace latchkey::oauth
