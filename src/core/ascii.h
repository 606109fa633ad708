// ASCII case folding for protocol text: header and cookie names, auth schemes, transfer codings,
// URI schemes and hosts, usernames. Deliberately not locale-aware (std::tolower depends on the
// C locale) and touching only A-Z / a-z, so that bytes of UTF-8 text are never changed. Pure
// functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace latchkey {

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr char ascii_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

// Equal but for the case of ASCII letters.
constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// `text` begins with `prefix`, but for the case of ASCII letters.
constexpr bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

inline std::string to_ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

}  // namespace latchkey
