// Thin OpenSSL helpers: hashing, HMAC, encodings, constant-time compare, the CSPRNG.
// All functions are thread-safe and allocation-light. Binary values travel as std::string.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/random.h"

namespace latchkey::crypto {

// RAND_bytes-backed CSPRNG. Thread-safe.
class OsRandom final : public Random {
 public:
  std::string bytes(std::size_t n) override;
};

std::string sha256(std::string_view data);                             // 32 raw bytes
std::string sha256_hex(std::string_view data);                         // 64 lowercase hex chars
std::string hex_encode(std::string_view data);                         // lowercase, 2 chars a byte
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes

std::string base64url_encode(std::string_view data);  // no padding (RFC 7515 §2)
// Accepts input with or without '=' padding; nullopt on any invalid character.
std::optional<std::string> base64url_decode(std::string_view text);
std::string base64_encode(std::string_view data);  // standard, padded
std::optional<std::string> base64_decode(std::string_view text);

// Overwrites the bytes of a secret no longer needed (OPENSSL_cleanse: not optimized away).
void wipe(std::string& secret);

// Compares in time that depends only on the lengths (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b);

// 32 random bytes as base64url (43 chars): access/refresh tokens, codes, CSRF values.
std::string random_token(Random& random, std::size_t bytes = 32);

}  // namespace latchkey::crypto
