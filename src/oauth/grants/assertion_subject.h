// What the bearer assertion grants (RFC 7521 §4.1: JWT bearer, SAML bearer) share once the
// assertion is verified: find the user it names, check the user may use the app without a
// person to ask (pre-authorized, or approved before), and issue an access token without a
// refresh token.
#pragma once

#include <boost/json.hpp>
#include <string_view>

#include "core/result.h"
#include "oauth/grants/grant_handler.h"
#include "oauth/token_issuer.h"
#include "store/stores.h"

namespace latchkey::oauth {

class AssertionSubject {
 public:
  AssertionSubject(store::AppStore& apps, store::UserStore& users, store::ConsentStore& consents,
                   TokenIssuer& issuer)
      : apps_(apps), users_(users), consents_(consents), issuer_(issuer) {}

  Result<TokenOutcome> issue(const store::App& app, std::string_view username,
                             const TokenRequest& req);

 private:
  store::AppStore& apps_;
  store::UserStore& users_;
  store::ConsentStore& consents_;
  TokenIssuer& issuer_;
};

}  // namespace latchkey::oauth
