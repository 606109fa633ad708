#include "crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <climits>
#include <memory>
#include <stdexcept>

namespace latchkey::crypto {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// Fetched once (OpenSSL 3 looks an implicitly named algorithm up under a lock on every use).
const EVP_CIPHER* aes256gcm() {
  static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher == nullptr) throw std::runtime_error("AES-256-GCM unavailable");
  return cipher;
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool fits_int(std::string_view s) { return s.size() <= static_cast<std::size_t>(INT_MAX / 2); }

}  // namespace

std::string aes256gcm_seal(std::string_view key, std::string_view nonce, std::string_view plaintext,
                           std::string_view aad) {
  if (key.size() != kAes256GcmKeyBytes) throw std::invalid_argument("AES-256-GCM key size");
  if (nonce.size() != kAes256GcmNonceBytes) throw std::invalid_argument("AES-256-GCM nonce size");
  if (!fits_int(plaintext) || !fits_int(aad)) throw std::invalid_argument("AES-256-GCM input size");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out(plaintext.size() + kAes256GcmTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, fin = 0;
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), aes256gcm(), bytes(key), bytes(nonce), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o, &len, bytes(plaintext), static_cast<int>(plaintext.size())) !=
          1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + len, &fin) != 1 ||
      static_cast<std::size_t>(len) + static_cast<std::size_t>(fin) != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kAes256GcmTagBytes),
                          o + plaintext.size()) != 1) {
    throw std::runtime_error("AES-256-GCM encryption failed");
  }
  return out;
}

std::optional<std::string> aes256gcm_open(std::string_view key, std::string_view nonce,
                                          std::string_view sealed, std::string_view aad) {
  if (key.size() != kAes256GcmKeyBytes || nonce.size() != kAes256GcmNonceBytes ||
      sealed.size() < kAes256GcmTagBytes || !fits_int(sealed) || !fits_int(aad)) {
    return std::nullopt;
  }
  const std::size_t n = sealed.size() - kAes256GcmTagBytes;
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer; it only reads from it.
  std::string tag(sealed.substr(n));
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out(n, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, fin = 0;
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), aes256gcm(), bytes(key), bytes(nonce), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), o, &len, bytes(sealed), static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kAes256GcmTagBytes),
                          tag.data()) != 1) {
    return std::nullopt;
  }
  // The tag is checked here; on a mismatch the decrypted bytes are wiped, never returned.
  if (EVP_DecryptFinal_ex(ctx.get(), o + len, &fin) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  return out;
}

}  // namespace latchkey::crypto
