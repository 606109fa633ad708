// grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer (RFC 7523 §2.1, §3; CONTRACT §5.6):
// a JWT signed with the key of the app's uploaded certificate, iss = client id, sub =
// username, aud = issuer, exp at most 3 minutes ahead. The user must have approved the app
// or be pre-authorized for it. No refresh token.
#pragma once

#include "core/clock.h"
#include "crypto/public_key_cache.h"
#include "oauth/grants/assertion_subject.h"
#include "oauth/grants/grant_handler.h"
#include "oauth/replay_cache.h"
#include "oauth/token_issuer.h"
#include "store/stores.h"

namespace latchkey::oauth {

inline constexpr std::string_view kJwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";

class JwtBearerGrant final : public TokenGrantHandler {
 public:
  JwtBearerGrant(store::AppStore& apps, store::UserStore& users, store::ConsentStore& consents,
                 TokenIssuer& issuer, const Clock& clock, std::string issuer_url)
      : apps_(apps),
        subject_(apps, users, consents, issuer),
        clock_(clock),
        issuer_url_(std::move(issuer_url)),
        seen_(clock) {}
  std::string_view grant_type() const override { return kJwtBearerGrant; }
  bool client_named_by_assertion() const override { return true; }
  Result<boost::json::object> handle(const TokenRequest& request) override;

 private:
  store::AppStore& apps_;
  AssertionSubject subject_;
  const Clock& clock_;
  std::string issuer_url_;
  ReplayCache seen_;
  crypto::PublicKeyCache keys_;  // the apps' certificates, parsed once
};

}  // namespace latchkey::oauth
