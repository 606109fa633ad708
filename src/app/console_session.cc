#include "app/console_session.h"

#include <charconv>
#include <vector>

#include "crypto/crypto.h"

namespace latchkey::app {
namespace {

std::optional<int64_t> number(std::string_view text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (true) {
    auto nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) return out;
    text.remove_prefix(nl + 1);
  }
}

}  // namespace

std::string ConsoleSessions::mac(std::string_view purpose, std::string_view data) const {
  std::string text(purpose);
  text += '\n';
  text += data;
  return crypto::base64url_encode(crypto::hmac_sha256(key_, text));
}

std::string ConsoleSessions::issue(std::string_view token_hash) const {
  const int64_t now = clock_.now_ms();
  const std::string payload = crypto::base64url_encode(
      "v1\n" + std::string(token_hash) + "\n" + std::to_string(now) + "\n" +
      std::to_string(now + kConsoleSessionMs) + "\n" + crypto::random_token(random_, 16));
  return payload + "." + mac("session", payload);
}

std::optional<std::string> ConsoleSessions::open(std::string_view cookie) const {
  // A cookie value is a few hundred bytes at most; anything longer is not ours.
  if (cookie.size() > 512) return std::nullopt;
  const auto dot = cookie.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view payload = cookie.substr(0, dot);
  if (!crypto::constant_time_equal(cookie.substr(dot + 1), mac("session", payload))) {
    return std::nullopt;
  }
  auto text = crypto::base64url_decode(payload);
  if (!text) return std::nullopt;
  auto parts = lines(*text);
  if (parts.size() != 5 || parts[0] != "v1" || parts[1].empty()) return std::nullopt;
  auto issued = number(parts[2]);
  auto expires = number(parts[3]);
  const int64_t now = clock_.now_ms();
  // Issued in the future (beyond a little clock skew between nodes) is refused too.
  if (!issued || !expires || now >= *expires || *issued > now + 60'000) return std::nullopt;
  return std::string(parts[1]);
}

std::string ConsoleSessions::csrf(std::string_view cookie) const { return mac("csrf", cookie); }

std::string ConsoleSessions::login_csrf(std::string_view pre_session) const {
  return mac("login", pre_session);
}

bool ConsoleSessions::matches(std::string_view presented, std::string_view expected) {
  return !presented.empty() && !expected.empty() &&
         crypto::constant_time_equal(presented, expected);
}

}  // namespace latchkey::app
