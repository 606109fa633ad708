#include "token/opaque_tokens.h"

#include "crypto/crypto.h"

namespace latchkey::token {

std::string hash_of(std::string_view secret) { return crypto::sha256_hex(secret); }

std::string OpaqueTokens::new_access_token(std::string_view org_id) {
  return std::string(org_id) + "!" + crypto::random_token(random_);
}

std::string OpaqueTokens::new_refresh_token() {
  // Salesforce refresh tokens have no readable structure beyond a short prefix.
  return "5Aep" + crypto::random_token(random_);
}

bool OpaqueTokens::is_live(const store::Token& t) const {
  if (t.revoked) return false;
  return t.expires_ms == 0 || clock_.now_ms() < t.expires_ms;
}

Result<store::Token> OpaqueTokens::validate_access(std::string_view presented) const {
  if (presented.empty() || presented.size() > kMaxTokenSize) return oauth::Error::invalid_token();
  auto t = tokens_.find_token(hash_of(presented));
  if (!t || t->kind != store::TokenKind::access || !is_live(*t)) {
    return oauth::Error::invalid_token();
  }
  return std::move(*t);
}

std::optional<store::Token> OpaqueTokens::find_live(std::string_view presented) const {
  if (presented.empty() || presented.size() > kMaxTokenSize) return std::nullopt;
  auto t = tokens_.find_token(hash_of(presented));
  if (!t || !is_live(*t)) return std::nullopt;
  return t;
}

}  // namespace latchkey::token
