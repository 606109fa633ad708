// grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6; docs/behaviour.md §5.1–§5.3).
#pragma once

#include "core/clock.h"
#include "oauth/grants/grant_handler.h"
#include "oauth/token_issuer.h"
#include "store/stores.h"

namespace latchkey::oauth {

class AuthorizationCodeGrant final : public TokenGrantHandler {
 public:
  AuthorizationCodeGrant(store::CodeStore& codes, store::TokenStore& tokens,
                         store::UserStore& users, TokenIssuer& issuer, const Clock& clock)
      : codes_(codes), tokens_(tokens), users_(users), issuer_(issuer), clock_(clock) {}

  std::string_view grant_type() const override { return "authorization_code"; }
  Result<TokenOutcome> handle(const TokenRequest& request) override;
  [[nodiscard]] bool reads_later() const override { return codes_.finds_codes_later(); }
  void handle_later(const TokenRequest& request, Then then) override;

 private:
  // The checks made before the code is read: the code's reference, or the refusal.
  Result<store::SecretRef> code_of(const TokenRequest& req) const;
  // The rest, once the code of `ref` was read (`record`).
  Result<TokenOutcome> with_code(const TokenRequest& req,
                                 const std::optional<store::AuthCode>& record);

  store::CodeStore& codes_;
  store::TokenStore& tokens_;
  store::UserStore& users_;
  TokenIssuer& issuer_;
  const Clock& clock_;
};

}  // namespace latchkey::oauth
