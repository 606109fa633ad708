#include "crypto/key_sealer.h"

#include <cstdint>
#include <stdexcept>

#include "crypto/aead.h"
#include "crypto/crypto.h"

namespace latchkey::crypto {
namespace {

using oauth::Error;

constexpr std::size_t kKekIdHexChars = 16;

// Each part length-prefixed, so no choice of kid can make two different rows' AADs equal.
std::string aad_of(std::string_view kek_id, std::string_view kid, std::string_view alg) {
  std::string aad(kSealedKeyPrefix);
  for (std::string_view part : {kek_id, kid, alg}) {
    const auto n = static_cast<uint32_t>(part.size());
    for (int shift = 24; shift >= 0; shift -= 8) aad += static_cast<char>((n >> shift) & 0xFF);
    aad += part;
  }
  return aad;
}

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

KeySealer::KeySealer(std::string kek, std::string source, Random& random)
    : kek_(std::move(kek)), id_(id_of(kek_)), source_(std::move(source)), random_(&random) {
  if (kek_.size() != kAes256GcmKeyBytes) {
    throw std::invalid_argument("a key-encryption key is 32 bytes");
  }
}

std::string KeySealer::id_of(std::string_view kek) {
  return sha256_hex(kek).substr(0, kKekIdHexChars);
}

std::string KeySealer::seal(std::string_view kid, std::string_view alg,
                            std::string_view plaintext) const {
  std::string nonce = random_->bytes(kAes256GcmNonceBytes);
  std::string body = nonce + aes256gcm_seal(kek_, nonce, plaintext, aad_of(id_, kid, alg));
  return std::string(kSealedKeyPrefix) + id_ + ":" + base64url_encode(body);
}

Result<std::string> KeySealer::open(std::string_view kid, std::string_view alg,
                                    std::string_view sealed) const {
  auto kek_id = kek_id_of(sealed);
  if (!kek_id)
    return Error::invalid_request("not a sealed key (expected " + std::string(kSealedKeyPrefix) +
                                  "...)");
  if (*kek_id != id_) {
    return Error::invalid_request("sealed under key-encryption key " + *kek_id +
                                  ", not under this one (" + id_ + ")");
  }
  auto body = base64url_decode(sealed.substr(kSealedKeyPrefix.size() + kKekIdHexChars + 1));
  if (!body || body->size() < kAes256GcmNonceBytes + kAes256GcmTagBytes) {
    return Error::invalid_request("malformed sealed key");
  }
  std::string_view b = *body;
  auto plain = aes256gcm_open(kek_, b.substr(0, kAes256GcmNonceBytes),
                              b.substr(kAes256GcmNonceBytes), aad_of(id_, kid, alg));
  if (!plain) {
    return Error::invalid_request(
        "sealed key does not authenticate (altered, or moved from "
        "another kid or alg)");
  }
  return std::move(*plain);
}

std::optional<std::string> KeySealer::kek_id_of(std::string_view stored) {
  if (!stored.starts_with(kSealedKeyPrefix)) return std::nullopt;
  std::string_view rest = stored.substr(kSealedKeyPrefix.size());
  if (rest.size() <= kKekIdHexChars || rest[kKekIdHexChars] != ':') return std::nullopt;
  std::string_view id = rest.substr(0, kKekIdHexChars);
  if (!is_lower_hex(id)) return std::nullopt;
  return std::string(id);
}

bool KeySealer::is_sealed(std::string_view stored) { return kek_id_of(stored).has_value(); }

std::string KeySealer::derive_key(std::string_view purpose) const {
  // RFC 5869 §2.3 for one block: T(1) = HMAC-Hash(PRK, info || 0x01).
  std::string info = "latchkey ";
  info += purpose;
  info += '\x01';
  return hmac_sha256(kek_, info);
}

std::string KeySealer::kek_file_text(std::string_view kek) { return hex_encode(kek) + "\n"; }

std::optional<std::string> KeySealer::parse_kek_file(std::string_view text) {
  if (text.ends_with('\n')) text.remove_suffix(1);
  if (text.size() != 2 * kAes256GcmKeyBytes) return std::nullopt;
  std::string kek;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    kek += static_cast<char>(hi * 16 + lo);
  }
  return kek;
}

}  // namespace latchkey::crypto
