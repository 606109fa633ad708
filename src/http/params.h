// application/x-www-form-urlencoded decoding for bodies and query strings, the Basic
// Authorization header, and cookies.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace latchkey::http {

// Decoded name/value pairs. A parameter given twice is refused at parse time
// (RFC 6749 §3.1, §3.2: "Request and response parameters MUST NOT be included more than once").
class Params {
 public:
  std::optional<std::string_view> get(std::string_view name) const;
  // The value, or "" when absent.
  std::string_view value(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  void add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Percent-decodes and turns '+' into ' '. nullopt on a malformed escape.
std::optional<std::string> form_decode(std::string_view text);
// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
std::string form_encode(std::string_view text);

// Parses "a=1&b=2". Empty names are ignored. A repeated name, a malformed escape or a
// value with a NUL byte is invalid_request.
Result<Params> parse_form(std::string_view text);

struct BasicCredentials {
  std::string id;
  std::string secret;
};
// RFC 6749 §2.3.1: "Basic base64(urlencode(id):urlencode(secret))". nullopt if the header is
// not a well-formed Basic credential.
std::optional<BasicCredentials> parse_basic(std::string_view authorization);

// "Bearer x" or "OAuth x" (Salesforce) → x. nullopt for any other scheme or an empty token.
std::optional<std::string> parse_bearer(std::string_view authorization);

// Cookie header → value of the named cookie (the first, if it occurs more than once).
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);
// Cookie header → every value of the named cookie, in order. A browser sends one name more
// than once when cookies of that name were set for several paths or domains (RFC 6265 §5.4),
// which is how a related subdomain or a plain-http page can plant a second one; callers that
// must not pick one of them see them all.
std::vector<std::string> cookie_values(std::string_view cookie_header, std::string_view name);

}  // namespace latchkey::http
