// Sealing of the signing private keys under the key-encryption key (KEK), so that a copy of
// the database alone yields no signing key (docs/operations.md "Signing keys at rest"). The store
// keeps what it is given; the key ring seals before saving and opens after loading.
//
// Stored form (SigningKeyRecord::private_pem):
//   lk-kek-v1:<KEK id, 16 hex>:<base64url of nonce (12) || ciphertext || tag (16)>
// AES-256-GCM (crypto/aead.h) over the PKCS#8 PEM. The additional authenticated data binds the
// envelope version, the KEK id, the row's kid and its alg, so a sealed key cannot be moved to
// another row, relabelled with another algorithm, or passed off under another KEK's id.
// The KEK id is the first 8 bytes of SHA-256 of the KEK in hex: it tells which KEK a row was
// sealed under (a wrong KEK file is named as such before any decryption) without revealing it.
//
// KEK file format: the 32 bytes as 64 hex characters, optionally followed by one newline.
//
// Copyable; thread-safe (const methods only; nonces come from the Random seam).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/random.h"
#include "core/result.h"

namespace latchkey::crypto {

inline constexpr std::string_view kSealedKeyPrefix = "lk-kek-v1:";

class KeySealer {
 public:
  // `kek`: 32 raw bytes (std::invalid_argument otherwise). `source` says where it came from (the
  // KEK file's path) for error messages.
  KeySealer(std::string kek, std::string source, Random& random);

  // The envelope of `plaintext` for the row (kid, alg).
  std::string seal(std::string_view kid, std::string_view alg, std::string_view plaintext) const;
  // The plaintext sealed for (kid, alg) under this KEK. An error whose description says why
  // (sealed under another KEK, altered or moved from another row, malformed) otherwise.
  Result<std::string> open(std::string_view kid, std::string_view alg,
                           std::string_view sealed) const;

  // A 32-byte key for another purpose, derived from the KEK (HMAC-SHA256 of the KEK over
  // `purpose`, the expand step of RFC 5869 with the KEK as pseudorandom key): every process given
  // the same KEK derives the same key, so a secret the nodes of one installation must share (the
  // forms' CSRF key) needs no storage of its own, and knowing it reveals nothing of the KEK.
  std::string derive_key(std::string_view purpose) const;

  const std::string& id() const { return id_; }
  const std::string& source() const { return source_; }

  // True when `stored` is an envelope of this format (any KEK), false for anything else, such
  // as the plaintext PEM of a database from before sealing.
  static bool is_sealed(std::string_view stored);
  // The KEK id an envelope names; nullopt when `stored` is not an envelope.
  static std::optional<std::string> kek_id_of(std::string_view stored);

  // The KEK id of a raw KEK.
  static std::string id_of(std::string_view kek);
  // KEK file text <-> raw KEK (format above). parse is nullopt for anything but 64 hex characters
  // with at most one trailing newline.
  static std::string kek_file_text(std::string_view kek);
  static std::optional<std::string> parse_kek_file(std::string_view text);

 private:
  std::string kek_;
  std::string id_;
  std::string source_;
  Random* random_;
};

}  // namespace latchkey::crypto
