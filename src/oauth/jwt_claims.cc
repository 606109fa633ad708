#include "oauth/jwt_claims.h"

#include <cmath>

namespace latchkey::oauth {

std::string claim_string(const boost::json::object& claims, std::string_view name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

std::optional<int64_t> claim_time(const boost::json::object& claims, std::string_view name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  const auto& v = it->value();
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    return v.get_uint64() > static_cast<uint64_t>(INT64_MAX)
               ? std::nullopt
               : std::optional<int64_t>(static_cast<int64_t>(v.get_uint64()));
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (!std::isfinite(d) || d > 9.0e15 || d < -9.0e15) return std::nullopt;
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

bool audience_matches(const boost::json::object& claims,
                      std::initializer_list<std::string_view> accepted) {
  auto it = claims.find("aud");
  if (it == claims.end()) return false;
  auto ok = [&](const boost::json::value& v) {
    if (!v.is_string()) return false;
    for (auto a : accepted) {
      if (v.get_string() == a) return true;
    }
    return false;
  };
  if (it->value().is_array()) {
    for (const auto& v : it->value().get_array()) {
      if (ok(v)) return true;
    }
    return false;
  }
  return ok(it->value());
}

}  // namespace latchkey::oauth
