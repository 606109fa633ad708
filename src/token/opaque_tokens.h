// Opaque access and refresh tokens. The secret part is 32 random bytes; only the SHA-256 of
// the whole token is stored (docs/behaviour.md §2), so a database dump yields no usable token.
// Access tokens carry the org id in front, as Salesforce session ids do ("00D…!…"), which clients
// may parse.
//
// In front of the random bytes (in the same base64url text) a token carries its row id, 8
// bytes big-endian: the store finds the row by id and compares the hash in constant time
// (store::SecretRef). The id is a locator, not a secret: it says when the token was minted,
// to the millisecond, and nothing more.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/random.h"
#include "core/result.h"
#include "store/stores.h"

namespace latchkey::token {

// Longer presented tokens are refused unhashed (JWT access tokens are about 1 KiB).
inline constexpr std::size_t kMaxTokenSize = 4096;

// The storage key of a presented token or code.
std::string hash_of(std::string_view secret);

// How the store finds a presented token or code: by the id it carries, or by hash alone for
// those without one (minted before ids, JWT access tokens).
store::SecretRef ref_of(std::string_view presented);

// A new authorization code carrying row id `id` (CodeStore::allocate_code_id()): the same
// body as a token, without a prefix.
std::string new_code(int64_t id, Random& random);

class OpaqueTokens {
 public:
  OpaqueTokens(store::TokenStore& tokens, Random& random, const Clock& clock)
      : tokens_(tokens), random_(random), clock_(clock) {}

  // New tokens carrying row id `id` (TokenStore::allocate_id()).
  std::string new_access_token(std::string_view org_id, int64_t id);
  std::string new_refresh_token(int64_t id);

  // A live access token: known, of kind access, not revoked, not expired. Otherwise
  // invalid_token (answered 401 INVALID_SESSION_ID by resources).
  Result<store::Token> validate_access(std::string_view presented) const;
  // Any token (access or refresh) that is live; for introspection.
  std::optional<store::Token> find_live(std::string_view presented) const;
  // Live: not revoked, not expired, and not a refresh token already rotated away (used up).
  bool is_live(const store::Token& t) const;

 private:
  store::TokenStore& tokens_;
  Random& random_;
  const Clock& clock_;
};

}  // namespace latchkey::token
