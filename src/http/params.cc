#include "http/params.h"

#include <array>
#include <cstdint>

#include "core/ascii.h"
#include "crypto/crypto.h"

namespace latchkey::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Splits "<scheme> <credentials>" (RFC 9110 §11.4) and returns the credentials when the scheme
// matches case-insensitively; one or more spaces may separate the two.
std::optional<std::string_view> strip_scheme(std::string_view header, std::string_view scheme) {
  header = trim(header);
  if (header.size() <= scheme.size() || !iequals(header.substr(0, scheme.size()), scheme) ||
      !is_space(header[scheme.size()])) {
    return std::nullopt;
  }
  return trim(header.substr(scheme.size()));
}

}  // namespace

std::optional<std::string_view> Params::get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view Params::value(std::string_view name) const { return get(name).value_or(""); }

std::optional<std::string> form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string form_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (is_unreserved(u)) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0x0F]);
    }
  }
  return out;
}

Result<Params> parse_form(std::string_view text) {
  Params params;
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;

    const std::size_t eq = pair.find('=');
    auto name = form_decode(pair.substr(0, eq));
    auto value =
        form_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    // A NUL would truncate the value in any C API further down (and in SQLite text), so two
    // different requests could end up looking the same.
    if (!name || !value || name->find('\0') != std::string::npos ||
        value->find('\0') != std::string::npos) {
      return oauth::Error::invalid_request("malformed parameter encoding");
    }
    if (name->empty()) continue;
    if (params.has(*name)) {
      // RFC 6749 §3.1, §3.2: parameters MUST NOT be included more than once.
      return oauth::Error::invalid_request("parameter " + *name + " given more than once");
    }
    params.add(std::move(*name), std::move(*value));
  }
  return params;
}

std::optional<BasicCredentials> parse_basic(std::string_view authorization) {
  const auto encoded = strip_scheme(authorization, "Basic");
  if (!encoded || encoded->empty()) return std::nullopt;
  const auto decoded = crypto::base64_decode(*encoded);
  if (!decoded) return std::nullopt;
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  // RFC 6749 §2.3.1: id and secret are form-urlencoded before joining, so a ':' or '%' inside
  // either arrives escaped and the first raw ':' is the separator.
  auto id = form_decode(std::string_view(*decoded).substr(0, colon));
  auto secret = form_decode(std::string_view(*decoded).substr(colon + 1));
  // No client has an empty id, and a NUL could truncate the id in a lookup.
  if (!id || !secret || id->empty() || id->find('\0') != std::string::npos ||
      secret->find('\0') != std::string::npos) {
    return std::nullopt;
  }
  return BasicCredentials{std::move(*id), std::move(*secret)};
}

std::optional<std::string> parse_bearer(std::string_view authorization) {
  auto token = strip_scheme(authorization, "Bearer");
  if (!token) token = strip_scheme(authorization, "OAuth");
  if (!token || token->empty()) return std::nullopt;
  // RFC 6750 §2.1: the credential is a single token; whitespace or controls mean a malformed
  // header rather than a token to look up.
  for (char c : *token) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return std::nullopt;
  }
  return std::string(*token);
}

std::vector<std::string> cookie_values(std::string_view cookie_header, std::string_view name) {
  // RFC 6265 §4.2.1: cookie-pair *( ";" SP cookie-pair ). Be lenient about the spacing since
  // browsers and proxies vary; names are case-sensitive.
  std::vector<std::string> out;
  while (!cookie_header.empty()) {
    const std::size_t semi = cookie_header.find(';');
    const std::string_view pair = trim(cookie_header.substr(0, semi));
    cookie_header =
        semi == std::string_view::npos ? std::string_view() : cookie_header.substr(semi + 1);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = trim(pair.substr(eq + 1));
    // cookie-value may be wrapped in DQUOTEs, which are not part of the value.
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    out.emplace_back(value);
  }
  return out;
}

std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name) {
  auto all = cookie_values(cookie_header, name);
  if (all.empty()) return std::nullopt;
  return std::move(all.front());
}

}  // namespace latchkey::http
