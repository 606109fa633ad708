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
#include "store/stores.h"

namespace latchkey::oauth {

struct TokenRequest {
  const http::Request& http;
  const http::Params& params;
  const ClientAuth& client;
};

// What a grant answers once it has decided to issue tokens: the response, and what must happen
// before it may be sent. A grant never waits; the token endpoint awaits the write (without
// holding a thread) and settle() turns what it settled with into the answer.
struct TokenOutcome {
  boost::json::object body;  // the token response, less an ID token still to be signed
  // The tokens' write (never null). Until it is durable the tokens do not exist, so nothing of
  // the body may be sent before; it may instead find the code or refresh token used up, or fail.
  std::shared_ptr<store::PendingWrite> write;
  // Signs the ID token the body still lacks (added as "id_token"); null when there is none.
  std::function<std::string()> sign_id_token;
  // The answer when the write finds the code or refresh token used up already.
  std::optional<Error> if_redeemed;
  // The write only revokes what an earlier use issued (refuse_redeemed): `if_redeemed` is the
  // answer whatever the write settles with.
  bool refusal = false;
  // For the events: token_issued once durable, token_revoked when the write revoked tokens.
  std::string client_id, user_id, grant_type;
  std::string_view revoke_reason;  // the token_revoked detail; empty when it redeems nothing
};

// The answer once `outcome.write` settled as `written` and the ID token, if the outcome has one
// to sign, was signed (`id_token`; nullopt when signing failed): nullopt when the answer is
// `outcome.body` (the ID token added), else the refusal.
[[nodiscard]] std::optional<Error> settle(TokenOutcome& outcome, const store::WriteOutcome& written,
                                          std::optional<std::string> id_token);

// What a grant's tokens take from the client that asked for them: the secret (for
// `signature`), the certificate binding (RFC 8705 §3; a public client's refresh token too,
// §4).
inline void apply_client(GrantInput& in, const TokenRequest& req) {
  in.client_secret = req.client.secret;
  in.cnf_x5t = req.client.cnf_x5t;
  in.public_client = !req.client.authenticated();
}

// Issues the tokens of `in` (queuing their write). `if_redeemed` is the answer when in.redeem
// turns out used up already.
TokenOutcome issue_tokens(TokenIssuer& issuer, const GrantInput& in,
                          std::optional<Error> if_redeemed = std::nullopt);

// For a code or refresh token already seen used up: a redemption that saves nothing, so that
// its write revokes what the earlier use issued (tokens of `user_id`), then answers `refusal`.
// The endpoint awaits that write like any token write (never holding a thread).
TokenOutcome refuse_redeemed(store::TokenStore& tokens, const store::Redemption& r,
                             std::string_view user_id, Error refusal, const TokenRequest& req);

class TokenGrantHandler {
 public:
  virtual ~TokenGrantHandler() = default;
  virtual std::string_view grant_type() const = 0;
  // Bearer assertion grants (RFC 7521 §4.1) name their client inside the assertion, so the
  // request may carry no client identification at all.
  virtual bool client_named_by_assertion() const { return false; }
  // Whether discovery lists it in grant_types_supported. A grant an app must opt into and that
  // RFC 9700 §2.4 says not to use (password) is served without being advertised.
  virtual bool advertised() const { return true; }
  // The tokens to issue, or why not.
  virtual Result<TokenOutcome> handle(const TokenRequest& request) = 0;

  // A grant whose first step is a read the store answers later (store::CodeStore::
  // finds_codes_later: a database over the network) is handled with handle_later, so that no
  // thread waits on that read.
  [[nodiscard]] virtual bool reads_later() const { return false; }
  using Then = std::function<void(Result<TokenOutcome>)>;
  // What handle() answers, given to `then` once the read is answered: on the store's reader
  // thread, or at once on this one when the request is refused before anything is read.
  // `request` must stay valid until `then` has been called. Only for a grant that reads_later().
  // NOLINTNEXTLINE(performance-unnecessary-value-param): an override keeps `then` for later.
  virtual void handle_later(const TokenRequest& request, Then then) { then(handle(request)); }
};

}  // namespace latchkey::oauth
