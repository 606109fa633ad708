#include "token/scopes.h"

#include <algorithm>

namespace latchkey::token {

std::vector<std::string> split_scopes(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    std::size_t j = text.find(' ', i);
    if (j == std::string_view::npos) j = text.size();
    if (j > i) {
      std::string s(text.substr(i, j - i));
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
    i = j;
  }
  return out;
}

std::string join_scopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

bool has_scope(const std::vector<std::string>& scopes, std::string_view scope) {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

Result<std::vector<std::string>> grant_scopes(std::string_view requested,
                                              const std::vector<std::string>& app_scopes) {
  auto wanted = split_scopes(requested);
  if (wanted.empty()) return app_scopes;
  for (const auto& s : wanted) {
    // RFC 6749 §3.3 scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    for (char c : s) {
      if (c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e) {
        return oauth::Error::invalid_scope("malformed scope");
      }
    }
    // Salesforce's "full" includes every scope but refresh_token; treat it as any other name.
    if (!has_scope(app_scopes, s))
      return oauth::Error::invalid_scope("the requested scope is not allowed: " + s);
  }
  return wanted;
}

bool allows_refresh(const std::vector<std::string>& scopes) {
  return has_scope(scopes, "refresh_token") || has_scope(scopes, "offline_access");
}

bool allows_api(const std::vector<std::string>& scopes) {
  return has_scope(scopes, "api") || has_scope(scopes, "full");
}

bool allows_userinfo(const std::vector<std::string>& scopes) {
  return allows_identity(scopes) || has_scope(scopes, "api");
}

bool allows_identity(const std::vector<std::string>& scopes) {
  for (std::string_view s : {"id", "profile", "email", "address", "phone", "openid", "full"}) {
    if (has_scope(scopes, s)) return true;
  }
  return false;
}

bool allows_claims(const std::vector<std::string>& scopes, std::string_view claim_scope) {
  return has_scope(scopes, claim_scope) || has_scope(scopes, "full");
}

}  // namespace latchkey::token
