// Thin OpenSSL helpers: hashing, HMAC, encodings, constant-time compare, the CSPRNG.
// All functions are thread-safe and allocation-light. Binary values travel as std::string.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/mutex.h"
#include "core/random.h"

namespace latchkey::crypto {

// RAND_bytes-backed CSPRNG. Thread-safe.
//
// Requests of up to kPooledMax bytes (a token's 32) are served from a block drawn from RAND_bytes
// a page at a time: OpenSSL's generator asks the kernel for the process id on every call, to
// notice a fork, and where a system call is dear (a VM isolating page tables) that call costs
// more than the hashing a token needs. The block lives in a page the kernel zeroes in a forked
// child (MADV_WIPEONFORK), so a child never hands out the bytes its parent hands out; each byte
// is wiped from the block as it is handed out. Where the kernel cannot wipe on fork, every
// request goes to RAND_bytes as before.
class OsRandom final : public Random {
 public:
  static constexpr std::size_t kPooledMax = 64;

  OsRandom();
  ~OsRandom() override;
  OsRandom(const OsRandom&) = delete;
  OsRandom& operator=(const OsRandom&) = delete;

  std::string bytes(std::size_t n) override;

 private:
  struct Pool;
  Mutex mu_;
  Pool* pool_ GUARDED_BY(mu_) = nullptr;  // one page (mmap); null: no pooling
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
