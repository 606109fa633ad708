// Re-indents JSON text for display (the demo result page).
#pragma once

#include <string>
#include <string_view>

namespace latchkey::web {

// Returns `json` re-indented with two spaces per level, one member or element per line, and
// empty objects and arrays kept as {} and []. String contents are copied verbatim. This is a
// formatter, not a validator: text whose brackets or quotes do not balance is returned as is.
[[nodiscard]] std::string pretty_json(std::string_view json);

}  // namespace latchkey::web
