// Mints access (and refresh) tokens for a grant, stores their hashes in one durable write,
// and builds the Salesforce-shaped token response (docs/behaviour.md §5).
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/events.h"
#include "core/random.h"
#include "oidc/id_token.h"
#include "store/stores.h"
#include "token/jwt_access_tokens.h"
#include "token/opaque_tokens.h"

namespace latchkey::oauth {

struct GrantInput {
  GrantInput(const store::App& a, const store::User& u, std::vector<std::string> s)
      : app(a), user(u), scopes(std::move(s)) {}
  const store::App& app;
  const store::User& user;
  std::vector<std::string> scopes;
  std::string_view grant_type;  // for the audit log and metrics; "implicit" at authorize
  // Scopes of a new refresh token when they differ from the access token's: RFC 6749 §6,
  // a refresh token keeps the scope of the one presented even when the access token is
  // narrowed. Empty: same as `scopes`.
  std::vector<std::string> refresh_scopes;
  bool issue_refresh = false;  // the flow allows one and the scopes ask for it
  bool with_id_token = true;   // when `openid` is granted and a user authenticated
  std::string family_id;       // existing family (refresh flow); empty starts a new one
  std::string code_key;        // the code this grant redeems, if any (Token::code_key)
  std::string nonce;
  int64_t auth_time_s = 0;
  std::string client_secret;  // as presented, for `signature`; empty when none
  std::string code;           // for c_hash in hybrid responses
  // RFC 8705 §3: x5t#S256 of the client certificate the access token is bound to; empty for
  // an unbound token. Refresh tokens of confidential clients stay unbound: the client
  // authenticates again when it uses one (§4).
  std::string cnf_x5t;
  // Where issue() leaves the token write for its caller, who must release the response only
  // once it is durable (http::Response::await) and emit the token_issued event then; null:
  // issue() itself waits for it (rethrowing store::AlreadyRedeemed) and emits the event.
  std::shared_ptr<store::PendingWrite>* durable = nullptr;
  // Where issue() leaves the signing of the ID token for its caller, who adds the token to the
  // body (as "id_token") before sending it; null: issue() signs it into the body itself.
  std::function<std::string()>* id_token_later = nullptr;
  // The code or rotating refresh token this grant uses up: the tokens are saved only if it
  // was not used up already (store::Database::redeem_later).
  std::optional<store::Redemption> redeem;
  // A public client cannot authenticate again when it refreshes, so its refresh token is bound
  // to cnf_x5t as well (RFC 8705 §4).
  bool public_client = false;
};

struct Issued {
  boost::json::object body;  // the token response
  std::string access_token;
  std::string refresh_token;  // empty when none
  std::string id_token;       // empty when none
  std::string family_id;
};

class TokenIssuer {
 public:
  TokenIssuer(store::Database& tokens, token::OpaqueTokens& opaque,
              const token::JwtAccessTokens& jwts, const oidc::IdTokens& ids, const Clock& clock,
              std::string issuer, EventSink& events)
      : tokens_(tokens),
        opaque_(opaque),
        jwts_(jwts),
        ids_(ids),
        clock_(clock),
        issuer_(std::move(issuer)),
        events_(events) {}

  Issued issue(const GrantInput& in);

  // Salesforce's `signature`: base64(HMAC-SHA256(secret, id + issued_at)).
  static std::string signature(std::string_view secret, std::string_view id,
                               std::string_view issued_at);

 private:
  store::Database& tokens_;
  token::OpaqueTokens& opaque_;
  const token::JwtAccessTokens& jwts_;
  const oidc::IdTokens& ids_;
  const Clock& clock_;
  std::string issuer_;
  EventSink& events_;
};

}  // namespace latchkey::oauth
