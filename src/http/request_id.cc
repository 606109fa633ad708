#include "http/request_id.h"

#include <openssl/rand.h>

#include <stdexcept>

namespace latchkey::http {
namespace {

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// SplitMix64's finalizer: a bijection on 64-bit values, so distinct counters give distinct ids.
std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// RFC 4648 §5 without padding: 16 bytes are 22 characters.
constexpr std::size_t kIdLength = 22;

void encode(const std::array<unsigned char, 16>& bytes, char (&out)[kIdLength]) {
  std::size_t o = 0;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = (unsigned{bytes[i]} << 16) | (unsigned{bytes[i + 1]} << 8) | bytes[i + 2];
    out[o++] = kBase64Url[(v >> 18) & 63];
    out[o++] = kBase64Url[(v >> 12) & 63];
    out[o++] = kBase64Url[(v >> 6) & 63];
    out[o++] = kBase64Url[v & 63];
  }
  const unsigned v = unsigned{bytes[i]} << 16;  // the one byte left
  out[o++] = kBase64Url[(v >> 18) & 63];
  out[o] = kBase64Url[(v >> 12) & 63];
}

}  // namespace

bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (const char c : id) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

RequestIds::RequestIds() {
  std::array<unsigned char, 16> seed{};
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
    throw std::runtime_error("cannot draw random bytes for request ids");
  }
  for (std::size_t i = 0; i < prefix_.size(); ++i) prefix_[i] = seed[i];
  for (std::size_t i = 0; i < 8; ++i) key_ = (key_ << 8) | seed[8 + i];
}

void RequestIds::next(std::string& out) {
  const std::uint64_t n = mix(counter_.fetch_add(1, std::memory_order_relaxed) ^ key_);
  std::array<unsigned char, 16> bytes{};
  for (std::size_t i = 0; i < prefix_.size(); ++i) bytes[i] = prefix_[i];
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[8 + i] = static_cast<unsigned char>(n >> (56 - 8 * i));
  }
  char text[kIdLength];
  encode(bytes, text);
  out.assign(text, kIdLength);
}

}  // namespace latchkey::http
