#include "crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <cstdint>
#include <memory>
#include <stdexcept>

namespace latchkey::crypto {
namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// OpenSSL 3 looks an algorithm up by name, under a lock, on every implicit use (EVP_sha256(),
// EVP_Q_mac): measured here with two threads, that more than doubles the cost of hashing a
// token. Fetched once, the algorithm objects are only read afterwards and shared by all threads.
const EVP_MD* sha256_md() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw std::runtime_error("SHA-256 unavailable");
  return md;
}

// An HMAC context with its digest already set; each use duplicates it and adds the key.
const EVP_MAC_CTX* hmac_sha256_template() {
  static const EVP_MAC_CTX* const tmpl = [] {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
    EVP_MAC_free(mac);  // the context holds its own reference
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (ctx != nullptr && EVP_MAC_CTX_set_params(ctx, params) != 1) {
      EVP_MAC_CTX_free(ctx);
      ctx = nullptr;
    }
    return ctx;
  }();
  if (tmpl == nullptr) throw std::runtime_error("HMAC-SHA256 unavailable");
  return tmpl;
}

using DecodeTable = std::array<int8_t, 256>;

constexpr DecodeTable make_decode_table(std::string_view alphabet) {
  DecodeTable table{};
  for (auto& v : table) v = -1;
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}

constexpr DecodeTable kBase64Table = make_decode_table(kBase64Alphabet);
constexpr DecodeTable kBase64UrlTable = make_decode_table(kBase64UrlAlphabet);

std::uint32_t byte_at(std::string_view s, std::size_t i) {
  return static_cast<unsigned char>(s[i]);
}

// RFC 4648 §4/§5 encoding; `pad` adds the '=' characters of §3.2.
std::string encode(std::string_view data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (byte_at(data, i) << 16) | (byte_at(data, i + 1) << 8) | byte_at(data, i + 2);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest == 1) {
    std::uint32_t v = byte_at(data, i) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    std::uint32_t v = (byte_at(data, i) << 16) | (byte_at(data, i + 1) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

// Strict decoding: padding is optional but, when present, must complete a 4-character
// quantum; any character outside the alphabet fails; a final character whose unused bits are
// not zero fails too (RFC 4648 §3.5), so every byte string has exactly one accepted encoding.
std::optional<std::string> decode(std::string_view text, const DecodeTable& table) {
  std::size_t padding = 0;
  while (padding < 2 && !text.empty() && text.back() == '=') {
    text.remove_suffix(1);
    ++padding;
  }
  if (padding > 0 && (text.size() + padding) % 4 != 0) return std::nullopt;
  // One leftover character carries only 6 bits, less than a byte: no encoder produces it.
  if (text.size() % 4 == 1) return std::nullopt;

  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int8_t v = table[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace

namespace {

// Fills `out` from RAND_bytes; throws when the generator fails (only possible if the OS entropy
// source is gone: continuing would mint guessable secrets).
void rand_fill(unsigned char* out, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const std::size_t chunk = std::min<std::size_t>(n - done, INT_MAX);
    if (RAND_bytes(out + done, static_cast<int>(chunk)) != 1) {
      throw std::runtime_error("RAND_bytes failed");
    }
    done += chunk;
  }
}

constexpr std::size_t kPageSize = 4096;

}  // namespace

// Laid out in one page so that MADV_WIPEONFORK zeroes `available` with the bytes: a forked
// child then finds the block empty and draws its own.
struct OsRandom::Pool {
  std::size_t available;  // the last `available` bytes of `block` are unused
  unsigned char block[kPageSize - sizeof(std::size_t)];
};
OsRandom::OsRandom() {
  static_assert(sizeof(Pool) == kPageSize);
  void* page = mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return;
  if (madvise(page, kPageSize, MADV_WIPEONFORK) != 0 ||
      madvise(page, kPageSize, MADV_DONTDUMP) != 0) {
    munmap(page, kPageSize);
    return;
  }
  MutexLock lock(mu_);
  pool_ = static_cast<Pool*>(page);
  pool_->available = 0;
}

OsRandom::~OsRandom() {
  MutexLock lock(mu_);
  if (pool_ == nullptr) return;
  OPENSSL_cleanse(pool_, kPageSize);
  munmap(pool_, kPageSize);
}

std::string OsRandom::bytes(std::size_t n) {
  std::string out(n, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (n > kPooledMax) {
    rand_fill(dst, n);
    return out;
  }
  MutexLock lock(mu_);
  if (pool_ == nullptr) {
    lock.unlock();
    rand_fill(dst, n);
    return out;
  }
  if (pool_->available < n) {
    rand_fill(pool_->block, sizeof pool_->block);
    pool_->available = sizeof pool_->block;
  }
  unsigned char* src = pool_->block + (sizeof pool_->block - pool_->available);
  std::memcpy(dst, src, n);
  OPENSSL_cleanse(src, n);
  pool_->available -= n;
  return out;
}

std::string sha256(std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                 sha256_md(), nullptr) != 1 ||
      len != out.size()) {
    throw std::runtime_error("SHA-256 failed");
  }
  return out;
}

std::string hex_encode(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (char c : data) {
    const auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 0x0F];
  }
  return out;
}

std::string sha256_hex(std::string_view data) { return hex_encode(sha256(data)); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::string out(32, '\0');
  std::size_t len = 0;
  // A one-byte dummy keeps the key pointer non-null for an empty key, which some providers
  // reject; HMAC (RFC 2104) pads the key with zeros anyway, so "" and a zero-length key agree.
  static const unsigned char kEmpty[1] = {0};
  const auto* key_ptr = key.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(
      EVP_MAC_CTX_dup(hmac_sha256_template()), &EVP_MAC_CTX_free);
  if (!ctx || EVP_MAC_init(ctx.get(), key_ptr, key.size(), nullptr) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
          1 ||
      EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) !=
          1 ||
      len != out.size()) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return out;
}

std::string base64url_encode(std::string_view data) {
  return encode(data, kBase64UrlAlphabet, /*pad=*/false);
}

std::optional<std::string> base64url_decode(std::string_view text) {
  return decode(text, kBase64UrlTable);
}

std::string base64_encode(std::string_view data) {
  return encode(data, kBase64Alphabet, /*pad=*/true);
}

std::optional<std::string> base64_decode(std::string_view text) {
  return decode(text, kBase64Table);
}

void wipe(std::string& secret) { OPENSSL_cleanse(secret.data(), secret.size()); }

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Lengths are not secret here (tokens and digests have fixed, public sizes).
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_token(Random& random, std::size_t bytes) {
  return base64url_encode(random.bytes(bytes));
}

}  // namespace latchkey::crypto
