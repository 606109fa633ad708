#include "http/message.h"

#include <algorithm>
#include <cctype>

#include "core/ascii.h"

namespace latchkey::http {
namespace {

template <typename Headers>
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> Request::header(std::string_view name) const {
  return find_header(headers, name);
}

Response& Response::set(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (iequals(k, name)) {
      v = std::move(value);
      return *this;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::optional<std::string_view> Response::header(std::string_view name) const {
  return find_header(headers, name);
}

Response Response::json(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.set("Content-Type", "application/json;charset=UTF-8");
  return r;
}

Response Response::html(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.set("Content-Type", "text/html;charset=utf-8");
  // RFC 9700 §4.16 clickjacking, §4.2.4 Referer leakage.
  r.set("X-Frame-Options", "DENY");
  r.set("Content-Security-Policy",
        "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'none'; "
        "frame-ancestors 'none'; form-action 'self' http: https:");
  r.set("Referrer-Policy", "no-referrer");
  r.set("X-Content-Type-Options", "nosniff");
  return r;
}

Response Response::redirect(std::string location) {
  Response r;
  r.status = 302;
  r.set("Location", std::move(location));
  r.set("Referrer-Policy", "no-referrer");
  return r;
}

}  // namespace latchkey::http
