// Typed reads of JWT claims (RFC 7519 §4.1) shared by client assertions (RFC 7523 §2.2) and
// the JWT bearer grant (RFC 7523 §2.1).
#pragma once

#include <boost/json.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::oauth {

// The claim as a string, "" when absent or not a string.
std::string claim_string(const boost::json::object& claims, std::string_view name);
// A NumericDate claim in seconds, nullopt when absent or not a number.
std::optional<int64_t> claim_time(const boost::json::object& claims, std::string_view name);
// `aud` (a string or an array of strings) contains one of `accepted`.
bool audience_matches(const boost::json::object& claims,
                      std::initializer_list<std::string_view> accepted);

}  // namespace latchkey::oauth
