// One class per grant type behind this interface; the token endpoint dispatches by
// grant_type after parsing, duplicate checks and client authentication (docs/design.md).
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "http/message.h"
#include "http/params.h"
#include "oauth/client_auth.h"
#include "oauth/token_issuer.h"
#include "store/pending_write.h"

namespace latchkey::oauth {

// A token response whose tokens are still being written: the endpoint sends it once the write
// is durable, and emits the token_issued event then.
struct Deferred {
  std::shared_ptr<store::PendingWrite> write;  // null: nothing to wait for
  // Signs the response's ID token, which the endpoint adds to the body as "id_token"; null:
  // none, or it is in the body already.
  std::function<std::string()> id_token;
  // What to answer instead if the write finds the code or refresh token used up already.
  std::optional<Error> if_redeemed;
  std::string client_id, user_id, grant_type;  // for the events
  // Why the write revokes tokens when it finds them used up (the token_revoked event's
  // detail): "code_replay" or "refresh_token_reuse"; empty when it redeems nothing.
  std::string_view revoke_reason;
};

// The token_revoked detail for what a redemption of `r` revokes when it was used up already.
std::string_view revoke_reason(const store::Redemption& r);

struct TokenRequest {
  const http::Request& http;
  const http::Params& params;
  const ClientAuth& client;
  // Where the grant leaves its token write for the endpoint to await; null: the grant waits.
  Deferred* deferred = nullptr;
};

// What a grant's tokens take from the client that asked for them: the secret (for
// `signature`), the certificate binding (RFC 8705 §3; a public client's refresh token too,
// §4).
inline void apply_client(GrantInput& in, const TokenRequest& req) {
  in.client_secret = req.client.secret;
  in.cnf_x5t = req.client.cnf_x5t;
  in.public_client = !req.client.authenticated();
}

// Issues the tokens of `in`, leaving their write in req.deferred when the endpoint awaits it,
// else waiting for it here. `if_redeemed` is the answer when in.redeem was used up already.
Result<boost::json::object> issue_tokens(TokenIssuer& issuer, GrantInput& in,
                                         const TokenRequest& req,
                                         std::optional<Error> if_redeemed = std::nullopt);

// For a code or refresh token already seen used up: a redemption that saves nothing, so that
// the write revokes what the earlier use issued (tokens of `user_id`), then `refusal`. Used-up
// stays used up, so that write always refuses; the endpoint awaits it like any token write
// (never holding a thread).
Result<boost::json::object> refuse_redeemed(store::Database& db, const store::Redemption& r,
                                            std::string_view user_id, Error refusal,
                                            const TokenRequest& req);

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
