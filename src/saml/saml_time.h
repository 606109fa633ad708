// Internal to src/saml/: SAML 2.0 time values (xs:dateTime, SAML core §1.3.3).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace latchkey::saml::detail {

// Parses "YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)" into seconds since the epoch,
// dropping any fraction (SAML core §1.3.3 says not to rely on sub-second resolution). A value
// without a time zone is refused: SAML requires UTC, and guessing a zone would move a validity
// window by hours. nullopt for anything malformed or out of range.
std::optional<int64_t> parse_saml_time(std::string_view s);

}  // namespace latchkey::saml::detail
