#include "oauth/pkce.h"

#include "crypto/crypto.h"

namespace latchkey::oauth {
namespace {

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool b64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

bool valid_code_verifier(std::string_view v) {
  if (v.size() < 43 || v.size() > 256) return false;
  for (char c : v) {
    if (!unreserved(c)) return false;
  }
  return true;
}

bool valid_s256_challenge(std::string_view c) {
  if (c.size() != 43) return false;
  for (char ch : c) {
    if (!b64url_char(ch)) return false;
  }
  return true;
}

bool verify_s256(std::string_view verifier, std::string_view challenge) {
  if (!valid_code_verifier(verifier)) return false;
  return crypto::constant_time_equal(crypto::base64url_encode(crypto::sha256(verifier)), challenge);
}

}  // namespace latchkey::oauth
