// grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer (RFC 7523 §2.1, §3; docs/behaviour.md
// §5.6): a JWT signed with the key of the app's uploaded certificate, iss = client id, sub =
// username, aud = issuer, exp at most 3 minutes ahead. The user must have approved the app
// or be pre-authorized for it. No refresh token.
//
// Tolerances Salesforce's own tools need, none of which widens what is accepted: the app is
// found by iss when the request names no client; exp and nbf may be numeric strings or
// milliseconds (TimeForm::salesforce), converted before the same checks; aud may be the
// issuer or an audience alias, each with or without one trailing slash.
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"
#include "oauth/jwt_assertion.h"
#include "oauth/grants/assertion_subject.h"
#include "oauth/grants/grant_handler.h"
#include "oauth/token_issuer.h"
#include "store/stores.h"

namespace latchkey::oauth {

inline constexpr std::string_view kJwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";

class JwtBearerGrant final : public TokenGrantHandler {
 public:
  // Assertion ids are single-use, recorded in `replays` (the database) so that a restart or
  // another process on the same database refuses a replay too; each client holds at most
  // `max_live_per_client` live ones.
  JwtBearerGrant(store::AppStore& apps, store::UserStore& users, store::ConsentStore& consents,
                 store::ReplayStore& replays, TokenIssuer& issuer, const Clock& clock,
                 const std::string& issuer_url,
                 int64_t max_live_per_client = ClientAuthLimits{}.max_live_assertions_per_client,
                 const std::vector<std::string>& audience_aliases = {})
      : subject_(apps, users, consents, issuer),
        assertions_(apps, replays, clock),
        audiences_(accepted_audiences(issuer_url, audience_aliases)),
        max_live_per_client_(max_live_per_client) {}
  std::string_view grant_type() const override { return kJwtBearerGrant; }
  bool client_named_by_assertion() const override { return true; }
  Result<TokenOutcome> handle(const TokenRequest& request) override;

  // The `aud` values accepted: the issuer and every alias (`serve --audience-alias`, e.g.
  // https://login.salesforce.com for tools that hard-code Salesforce's login host), each
  // without and with one trailing slash (the Salesforce CLI sends its login URL with one).
  static std::vector<std::string> accepted_audiences(const std::string& issuer_url,
                                                     const std::vector<std::string>& aliases);

 private:
  AssertionSubject subject_;
  JwtAssertionVerifier assertions_;
  std::vector<std::string> audiences_;
  int64_t max_live_per_client_;
};

}  // namespace latchkey::oauth
