#include "core/ids.h"

namespace latchkey {

std::string random_base62(Random& random, std::size_t n) {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    for (char byte : random.bytes(n)) {
      const auto c = static_cast<unsigned char>(byte);
      // Rejection sampling keeps the distribution uniform: 248 = 4 * 62.
      if (c < 248 && out.size() < n) out.push_back(kAlphabet[c % 62]);
    }
  }
  return out;
}

std::string make_id(Random& random, const char* prefix3) {
  return std::string(prefix3) + random_base62(random, 15);
}

std::string make_client_id(Random& random) { return "3MVG9" + random_base62(random, 80); }

}  // namespace latchkey
