// grant_type=refresh_token (RFC 6749 §6; docs/behaviour.md §5.4) with the app's refresh policy:
// until revoked, immediately (never issued), expire after N seconds, or rotate with reuse
// detection (RFC 9700 §4.14.2: reuse of a rotated token revokes the whole family), with an optional
// grace window for a client retrying a refresh whose response it lost. Each use
// re-checks the user: still active, and still covered by an admin-approved app's
// pre-authorizations (they may have been withdrawn, or the user's profile changed, since).
#pragma once

#include "core/clock.h"
#include "oauth/grants/grant_handler.h"
#include "oauth/token_issuer.h"
#include "store/stores.h"
#include "token/opaque_tokens.h"

namespace latchkey::oauth {

class RefreshTokenGrant final : public TokenGrantHandler {
 public:
  // `reuse_grace_ms`: how long after its first rotation a refresh token may be used again
  // (store::Redemption::reuse_since_ms); 0 = never.
  RefreshTokenGrant(store::TokenStore& tokens, store::AppStore& apps, store::UserStore& users,
                    TokenIssuer& issuer, const Clock& clock, int64_t reuse_grace_ms = 0)
      : tokens_(tokens),
        apps_(apps),
        users_(users),
        issuer_(issuer),
        clock_(clock),
        reuse_grace_ms_(reuse_grace_ms) {}

  std::string_view grant_type() const override { return "refresh_token"; }
  Result<TokenOutcome> handle(const TokenRequest& request) override;

 private:
  store::TokenStore& tokens_;
  store::AppStore& apps_;
  store::UserStore& users_;
  TokenIssuer& issuer_;
  const Clock& clock_;
  const int64_t reuse_grace_ms_;
};

}  // namespace latchkey::oauth
