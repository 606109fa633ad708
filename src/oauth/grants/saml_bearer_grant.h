// grant_type=urn:ietf:params:oauth:grant-type:saml2-bearer (RFC 7522 §2.1, §3; CONTRACT §5.7):
// a SAML 2.0 Assertion, base64url-encoded, signed with the key of the app's certificate;
// Issuer = client id, NameID = username, Audience = issuer, bearer Recipient = token URL.
// Each assertion ID is accepted once while the assertion is valid. No refresh token.
#pragma once

#include "core/clock.h"
#include "crypto/public_key_cache.h"
#include "oauth/grants/assertion_subject.h"
#include "oauth/grants/grant_handler.h"
#include "oauth/replay_cache.h"
#include "store/stores.h"

namespace latchkey::oauth {

inline constexpr std::string_view kSamlBearerGrant =
    "urn:ietf:params:oauth:grant-type:saml2-bearer";

class SamlBearerGrant final : public TokenGrantHandler {
 public:
  SamlBearerGrant(store::AppStore& apps, store::UserStore& users, store::ConsentStore& consents,
                  TokenIssuer& issuer, const Clock& clock, std::string issuer_url)
      : apps_(apps),
        subject_(apps, users, consents, issuer),
        clock_(clock),
        issuer_url_(std::move(issuer_url)),
        seen_(clock) {}
  std::string_view grant_type() const override { return kSamlBearerGrant; }
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
