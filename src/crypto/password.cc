#include "crypto/password.h"

#include <argon2.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace latchkey::crypto {
namespace {

// RFC 9106 §3.1 recommends a 16-byte salt and a 32-byte tag.
constexpr std::size_t kSaltBytes = 16;
constexpr std::uint32_t kHashBytes = 32;

// Upper bounds for parameters read back from a stored hash. A corrupted or planted row must
// not make one login allocate gigabytes or spin for minutes; these sit far above anything
// OWASP or RFC 9106 §4 suggests for interactive logins.
constexpr std::uint32_t kMaxMemoryKib = 1024 * 1024;  // 1 GiB
constexpr std::uint32_t kMaxIterations = 64;
constexpr std::uint32_t kMaxParallelism = 64;
constexpr std::size_t kMaxPhcLength = 512;

constexpr std::string_view kPrefix = "$argon2id$v=19$";

// Reads "<key>=<decimal>" at the front of `s` and consumes it.
std::optional<std::uint32_t> take_param(std::string_view& s, std::string_view key) {
  if (s.size() <= key.size() + 1 || s.substr(0, key.size()) != key || s[key.size()] != '=') {
    return std::nullopt;
  }
  s.remove_prefix(key.size() + 1);
  std::uint32_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr == s.data()) return std::nullopt;
  s.remove_prefix(static_cast<std::size_t>(ptr - s.data()));
  return value;
}

// Checks the cost parameters of "$argon2id$v=19$m=..,t=..,p=..$salt$hash" against the bounds
// above; libargon2 validates the rest (salt and hash encoding, minimum sizes).
bool acceptable_phc(std::string_view phc) {
  if (phc.size() > kMaxPhcLength || phc.find('\0') != std::string_view::npos) return false;
  if (phc.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view rest = phc.substr(kPrefix.size());
  auto m = take_param(rest, "m");
  if (!m || rest.empty() || rest.front() != ',') return false;
  rest.remove_prefix(1);
  auto t = take_param(rest, "t");
  if (!t || rest.empty() || rest.front() != ',') return false;
  rest.remove_prefix(1);
  auto p = take_param(rest, "p");
  if (!p || rest.empty() || rest.front() != '$') return false;
  return *m <= kMaxMemoryKib && *t >= 1 && *t <= kMaxIterations && *p >= 1 && *p <= kMaxParallelism;
}

}  // namespace

std::string PasswordHasher::hash(std::string_view password) const {
  const std::string salt = random_.bytes(kSaltBytes);
  const std::size_t encoded_len =
      argon2_encodedlen(params_.iterations, params_.memory_kib, params_.parallelism,
                        static_cast<std::uint32_t>(salt.size()), kHashBytes, Argon2_id);
  std::string encoded(encoded_len, '\0');
  const int rc = argon2id_hash_encoded(params_.iterations, params_.memory_kib, params_.parallelism,
                                       password.data(), password.size(), salt.data(), salt.size(),
                                       kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    // Only invalid parameters (rejected when the config is validated) or an allocation
    // failure get here; there is no meaningful hash to return.
    throw std::runtime_error(std::string("argon2id hashing failed: ") + argon2_error_message(rc));
  }
  // argon2_encodedlen is an upper bound that counts the terminator.
  encoded.resize(std::char_traits<char>::length(encoded.c_str()));
  return encoded;
}

bool PasswordHasher::verify(std::string_view phc, std::string_view password) const {
  // Only Argon2id is accepted: a stored argon2i/argon2d or foreign hash is treated as
  // unusable rather than verified with weaker settings.
  if (!acceptable_phc(phc)) return false;
  const std::string encoded(phc);  // libargon2 wants a NUL-terminated string.
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace latchkey::crypto
