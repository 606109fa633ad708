#include "token/opaque_tokens.h"

#include "crypto/crypto.h"

namespace latchkey::token {

namespace {

constexpr std::size_t kIdBytes = 8;
constexpr std::size_t kSecretBytes = 32;
// base64url of kIdBytes + kSecretBytes, unpadded.
constexpr std::size_t kBodyChars = ((kIdBytes + kSecretBytes) * 8 + 5) / 6;
constexpr std::string_view kRefreshPrefix = "5Aep";

std::string body(int64_t id, Random& random) {
  std::string bytes(kIdBytes, '\0');
  auto u = static_cast<uint64_t>(id);
  for (std::size_t i = 0; i < kIdBytes; ++i) {
    bytes[i] = static_cast<char>((u >> (8 * (kIdBytes - 1 - i))) & 0xff);
  }
  bytes += random.bytes(kSecretBytes);
  return crypto::base64url_encode(bytes);
}

// The id a token of this module's format carries, 0 for anything else.
int64_t carried_id(std::string_view token) {
  if (token.size() < kBodyChars) return 0;
  std::string_view head = token.substr(0, token.size() - kBodyChars);
  // Access tokens end "!<body>", refresh tokens are "5Aep<body>", codes are the body alone.
  if (!head.empty() && head.back() != '!' && head != kRefreshPrefix) return 0;
  auto bytes = crypto::base64url_decode(token.substr(head.size()));
  if (!bytes || bytes->size() != kIdBytes + kSecretBytes) return 0;
  uint64_t u = 0;
  for (std::size_t i = 0; i < kIdBytes; ++i) u = (u << 8) | static_cast<unsigned char>((*bytes)[i]);
  auto id = static_cast<int64_t>(u);
  return id > 0 ? id : 0;
}

}  // namespace

std::string hash_of(std::string_view secret) { return crypto::sha256_hex(secret); }

store::SecretRef ref_of(std::string_view presented) {
  return {carried_id(presented), hash_of(presented)};
}

std::string OpaqueTokens::new_access_token(std::string_view org_id, int64_t id) {
  std::string out(org_id);
  out += '!';
  out += body(id, random_);
  return out;
}

std::string new_code(int64_t id, Random& random) { return body(id, random); }

std::string OpaqueTokens::new_refresh_token(int64_t id) {
  // Salesforce refresh tokens have no readable structure beyond a short prefix.
  return std::string(kRefreshPrefix) + body(id, random_);
}

bool OpaqueTokens::is_live(const store::Token& t) const {
  // A refresh token rotated away under the rotate policy is used up: presenting it again is
  // reuse (refused, and it revokes its family), so it is not active (RFC 7662 §2.2).
  if (t.revoked || t.rotated) return false;
  return t.expires_ms == 0 || clock_.now_ms() < t.expires_ms;
}

Result<store::Token> OpaqueTokens::validate_access(std::string_view presented) const {
  if (presented.empty() || presented.size() > kMaxTokenSize) return oauth::Error::invalid_token();
  auto t = tokens_.find_token(ref_of(presented));
  if (!t || t->kind != store::TokenKind::access || !is_live(*t)) {
    return oauth::Error::invalid_token();
  }
  return std::move(*t);
}

std::optional<store::Token> OpaqueTokens::find_live(std::string_view presented) const {
  if (presented.empty() || presented.size() > kMaxTokenSize) return std::nullopt;
  auto t = tokens_.find_token(ref_of(presented));
  if (!t || !is_live(*t)) return std::nullopt;
  return t;
}

}  // namespace latchkey::token
