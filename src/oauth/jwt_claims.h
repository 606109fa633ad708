// Typed reads of JWT claims (RFC 7519 §4.1) shared by client assertions (RFC 7523 §2.2) and
// the JWT bearer grant (RFC 7523 §2.1).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::oauth {

// How a NumericDate claim (RFC 7519 §2) may be written.
enum class TimeForm {
  // A JSON number of seconds since the epoch, as RFC 7519 §2 defines it.
  numeric_date,
  // Also a string of decimal digits, and a value above 10^11 (the year 5138 in seconds) read as
  // milliseconds: the Salesforce CLI sends `exp` as Date.now() + 300, Python clients send it as
  // a string, and Salesforce accepts both (docs/behaviour.md §5.6). The value is converted to
  // seconds before any check, so the checks themselves stay the same.
  salesforce,
};

// The claim as a string, "" when absent or not a string.
std::string claim_string(const boost::json::object& claims, std::string_view name);
// A NumericDate claim in seconds, nullopt when absent or not written in `form` (rounded down
// when given in milliseconds or with a fraction).
std::optional<int64_t> claim_time(const boost::json::object& claims, std::string_view name,
                                  TimeForm form = TimeForm::numeric_date);
// `aud` (a string or an array of strings) contains one of `accepted`.
bool audience_matches(const boost::json::object& claims,
                      std::initializer_list<std::string_view> accepted);

}  // namespace latchkey::oauth
