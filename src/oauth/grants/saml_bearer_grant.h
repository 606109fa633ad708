// grant_type=urn:ietf:params:oauth:grant-type:saml2-bearer (RFC 7522 §2.1, §3; docs/behaviour.md
// §5.7): a SAML 2.0 Assertion, base64url-encoded, signed with the key of the app's certificate;
// Issuer = client id, NameID = username, Audience = issuer, bearer Recipient = token URL.
// Each assertion ID is accepted once while the assertion is valid. No refresh token.
#pragma once

#include "core/clock.h"
#include "crypto/public_key_cache.h"
#include "oauth/grants/assertion_subject.h"
#include "oauth/grants/grant_handler.h"
#include "store/stores.h"

namespace latchkey::oauth {

inline constexpr std::string_view kSamlBearerGrant =
    "urn:ietf:params:oauth:grant-type:saml2-bearer";

class SamlBearerGrant final : public TokenGrantHandler {
 public:
  // Assertion ids are single-use, recorded in `replays` (the database) so that a restart or
  // another process on the same database refuses a replay too; each client holds at most
  // `max_live_per_client` live ones.
  SamlBearerGrant(store::AppStore& apps, store::UserStore& users, store::ConsentStore& consents,
                  store::ReplayStore& replays, TokenIssuer& issuer, const Clock& clock,
                  std::string issuer_url,
                  int64_t max_live_per_client = ClientAuthLimits{}.max_live_assertions_per_client)
      : apps_(apps),
        subject_(apps, users, consents, issuer),
        replays_(replays),
        clock_(clock),
        issuer_url_(std::move(issuer_url)),
        max_live_per_client_(max_live_per_client) {}
  std::string_view grant_type() const override { return kSamlBearerGrant; }
  bool client_named_by_assertion() const override { return true; }
  Result<TokenOutcome> handle(const TokenRequest& request) override;

 private:
  store::AppStore& apps_;
  AssertionSubject subject_;
  store::ReplayStore& replays_;
  const Clock& clock_;
  std::string issuer_url_;
  int64_t max_live_per_client_;
  crypto::PublicKeyCache keys_;  // the apps' certificates, parsed once
};

}  // namespace latchkey::oauth
