#include "oauth/grants/refresh_token_grant.h"

#include "oauth/approval.h"
#include "token/bearer.h"
#include "token/scopes.h"

namespace latchkey::oauth {
namespace {

Error expired() { return Error::invalid_grant("expired access/refresh token"); }

}  // namespace

Result<TokenOutcome> RefreshTokenGrant::handle(const TokenRequest& req) {
  const store::App& app = req.client.app;
  if (app.require_secret_refresh && !req.client.authenticated()) {
    return Error::invalid_client("invalid client credentials");
  }
  auto presented = req.params.get("refresh_token");
  if (!presented || presented->empty()) return Error::invalid_request("refresh_token is required");
  if (presented->size() > 512) return expired();

  auto t = tokens_.find_token(token::ref_of(*presented));
  if (!t || t->kind != store::TokenKind::refresh || t->client_id != app.client_id || t->revoked) {
    return expired();
  }
  // RFC 8705 §4: a bound refresh token (a public client's) is good only with its certificate.
  // Checked before rotation, so a refused attempt changes nothing.
  if (!t->cnf_x5t.empty() && !token::presents_certificate(req.http, t->cnf_x5t)) {
    return expired().with_debug("refresh token bound to a client certificate not presented");
  }
  if (t->expires_ms != 0 && clock_.now_ms() >= t->expires_ms) return expired();
  if (app.refresh_policy == store::RefreshPolicy::immediately) return expired();

  // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
  std::vector<std::string> scopes = t->scopes;
  if (auto s = req.params.get("scope"); s && !s->empty()) {
    auto asked = token::grant_scopes(*s, t->scopes);
    if (!asked) return std::move(asked).error();
    scopes = std::move(asked.value());
  }

  auto user = users_.find_user(t->user_id);
  if (!user || !user->active) return expired().with_debug("user unknown or inactive");
  // A refresh token outlives the approval it was issued under: an admin-approved app stops
  // serving a user it no longer pre-authorizes (withdrawn, or the user's profile or permission
  // sets changed) at the next refresh, not when the refresh token expires.
  if (!may_use(apps_, app, *user)) {
    return Error::invalid_grant("user hasn't approved this consumer")
        .with_debug("user no longer pre-authorized");
  }

  // Under the rotate policy the presented token is used up by the same write that saves the
  // new ones (store::TokenStore::redeem_later); if it was used already, that write revokes its
  // family instead (RFC 9700 §4.14.2 reuse detection), unless its first use was within the
  // grace window: then it buys a new pair again. The write decides, not this copy.
  bool rotate = app.refresh_policy == store::RefreshPolicy::rotate;
  auto reused = expired().with_debug("rotated refresh token reused; family revoked");
  store::Redemption redeem{store::Redemption::Kind::refresh_token, t->ref(), t->family_id};
  redeem.now_ms = clock_.now_ms();
  if (reuse_grace_ms_ > 0) redeem.reuse_since_ms = redeem.now_ms - reuse_grace_ms_;
  if (t->rotated) {
    if (!rotate) return expired();
    if (t->rotated_ms < redeem.reuse_since_ms) {
      return refuse_redeemed(tokens_, redeem, t->user_id, std::move(reused), req);
    }
  }

  GrantInput in{app, *user, scopes};
  in.grant_type = "refresh_token";
  in.issue_refresh = rotate;
  in.refresh_scopes = t->scopes;
  in.family_id = t->family_id;
  // OIDC Core §12.2: the ID token of a refresh states the original authentication, not now.
  in.auth_time_s = t->auth_time_s;
  if (rotate) in.redeem = std::move(redeem);
  apply_client(in, req);
  return issue_tokens(issuer_, in, std::move(reused));
}

}  // namespace latchkey::oauth
