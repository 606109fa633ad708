#include "oauth/jwt_claims.h"

#include <charconv>
#include <cmath>

namespace latchkey::oauth {
namespace {

// Above this a NumericDate is taken for milliseconds (TimeForm::salesforce): 10^11 seconds is
// the year 5138, while milliseconds passed it in 1973.
constexpr int64_t kMillisecondsAbove = 100'000'000'000;
// At most 15 digits in a string: milliseconds until the year 33658, and no overflow.
constexpr std::size_t kMaxDigits = 15;

std::optional<int64_t> digits_of(std::string_view s) {
  if (s.empty() || s.size() > kMaxDigits) return std::nullopt;
  int64_t v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  // from_chars takes a leading '-'; a time before the epoch is no use to anyone here.
  if (res.ec != std::errc{} || res.ptr != s.data() + s.size() || s.front() == '-') {
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> number_of(const boost::json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    return v.get_uint64() > static_cast<uint64_t>(INT64_MAX)
               ? std::nullopt
               : std::optional<int64_t>(static_cast<int64_t>(v.get_uint64()));
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (!std::isfinite(d) || d > 9.0e15 || d < -9.0e15) return std::nullopt;
    return static_cast<int64_t>(std::floor(d));
  }
  return std::nullopt;
}

}  // namespace

std::string claim_string(const boost::json::object& claims, std::string_view name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

std::optional<int64_t> claim_time(const boost::json::object& claims, std::string_view name,
                                  TimeForm form) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  const auto& v = it->value();
  if (form == TimeForm::numeric_date) return number_of(v);
  auto t = v.is_string() ? digits_of(v.get_string()) : number_of(v);
  if (t && *t > kMillisecondsAbove) *t /= 1000;
  return t;
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
