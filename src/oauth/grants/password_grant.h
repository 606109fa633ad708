// grant_type=password (RFC 6749 §4.3; docs/behaviour.md §5.11): Salesforce's OAuth
// username-password flow, which jsforce's `conn.login(username, password)` uses when it has a
// client secret. Only for apps created with --allow-password-flow, and only for a client that
// authenticated (a confidential one): RFC 9700 §2.4 says not to use this grant, so it is off
// unless an admin asks for it, as Salesforce blocks it by default.
//
// The password is checked as the login page checks it: the same throttle (failures counted per
// (username, address), per address and per username, oauth/login_throttle.h, shared with the
// login page), an Argon2id check against a stand-in hash for unknown usernames so the time
// taken does not tell which exist, and login_success / login_failure events. Every refusal of
// the credentials, an app without the option included, is Salesforce's `invalid_grant`
// "authentication failure". No refresh token (nobody approved offline access) and no ID token.
//
// Thread-safe: the stores, the throttle and the event sink are.
#pragma once

#include <string>
#include <vector>

#include "core/events.h"
#include "core/random.h"
#include "crypto/password.h"
#include "http/client_address.h"
#include "oauth/grants/grant_handler.h"
#include "oauth/login_throttle.h"
#include "oauth/token_issuer.h"
#include "store/stores.h"

namespace latchkey::oauth {

class PasswordGrant final : public TokenGrantHandler {
 public:
  // Hashes a random stand-in password once (one Argon2id run). `trusted_proxies` as the login
  // page's: whose forwarded address counts for the throttle and the events.
  PasswordGrant(store::AppStore& apps, store::UserStore& users, TokenIssuer& issuer,
                const crypto::PasswordHasher& passwords, LoginThrottle& throttle, EventSink& events,
                Random& random, std::vector<http::Cidr> trusted_proxies);
  std::string_view grant_type() const override { return "password"; }
  bool advertised() const override { return false; }
  Result<TokenOutcome> handle(const TokenRequest& request) override;

 private:
  store::AppStore& apps_;
  store::UserStore& users_;
  TokenIssuer& issuer_;
  const crypto::PasswordHasher& passwords_;
  LoginThrottle& throttle_;
  EventSink& events_;
  std::vector<http::Cidr> trusted_proxies_;
  std::string dummy_hash_;
};

}  // namespace latchkey::oauth
