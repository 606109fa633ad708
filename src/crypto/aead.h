// AES-256-GCM (NIST SP 800-38D) through OpenSSL EVP: the authenticated encryption the signing
// private keys are stored under (crypto/key_sealer.h, docs/operations.md "Signing keys at rest").
// Stateless and thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::crypto {

inline constexpr std::size_t kAes256GcmKeyBytes = 32;
inline constexpr std::size_t kAes256GcmNonceBytes = 12;  // the 96-bit IV of SP 800-38D §5.2.1.1
inline constexpr std::size_t kAes256GcmTagBytes = 16;

// Encrypts `plaintext` and authenticates it together with `aad`; returns ciphertext || tag.
// A nonce must never be used twice under one key (callers draw it at random: 2^-32 collision
// bound of SP 800-38D §8.3 holds for far more keys than a key ring ever seals). Throws
// std::invalid_argument when the key or nonce has the wrong size.
std::string aes256gcm_seal(std::string_view key, std::string_view nonce, std::string_view plaintext,
                           std::string_view aad);

// The plaintext of `sealed` (ciphertext || tag), or nullopt when the tag does not verify: another
// key, another aad, any altered byte, or sizes that cannot be right. Never returns unverified
// plaintext.
std::optional<std::string> aes256gcm_open(std::string_view key, std::string_view nonce,
                                          std::string_view sealed, std::string_view aad);

}  // namespace latchkey::crypto
