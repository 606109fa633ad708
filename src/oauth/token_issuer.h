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
  // The code or rotating refresh token this grant uses up: the tokens are saved only if it
  // was not used up already (store::TokenStore::redeem_later).
  std::optional<store::Redemption> redeem;
  // A public client cannot authenticate again when it refreshes, so its refresh token is bound
  // to cnf_x5t as well (RFC 8705 §4).
  bool public_client = false;
};

// Tokens minted and queued for writing. None of them exists until `write` is durable: the
// caller sends nothing of them before (http::Response::await), and emits token_issued then.
struct Issued {
  boost::json::object body;  // the token response, less the ID token
  std::shared_ptr<store::PendingWrite> write;
  // Signs the response's ID token (OIDC Core §3.1.3.3); null when it has none. Kept for the
  // caller to run while the write is being made durable, off the I/O thread.
  std::function<std::string()> sign_id_token;
  std::string access_token;
  std::string refresh_token;  // empty when none
  std::string family_id;
};

class TokenIssuer {
 public:
  TokenIssuer(store::TokenStore& tokens, token::OpaqueTokens& opaque,
              const token::JwtAccessTokens& jwts, const oidc::IdTokens& ids, const Clock& clock,
              std::string issuer)
      : tokens_(tokens),
        opaque_(opaque),
        jwts_(jwts),
        ids_(ids),
        clock_(clock),
        issuer_(std::move(issuer)) {}

  // Mints the tokens of `in` and queues their write; never waits for it.
  Issued issue(const GrantInput& in);

  // Salesforce's `signature`: base64(HMAC-SHA256(secret, id + issued_at)).
  static std::string signature(std::string_view secret, std::string_view id,
                               std::string_view issued_at);

 private:
  store::TokenStore& tokens_;
  token::OpaqueTokens& opaque_;
  const token::JwtAccessTokens& jwts_;
  const oidc::IdTokens& ids_;
  const Clock& clock_;
  std::string issuer_;
};

}  // namespace latchkey::oauth
