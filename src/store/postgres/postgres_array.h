// String lists (scopes, callbacks, permission sets) as PostgreSQL TEXT[] values in their text
// form, the form a parameter is sent in and a result read in: `{"api","refresh_token"}`. Every
// string PostgreSQL can store round-trips exactly (quotes, backslashes, commas, braces,
// newlines, non-ASCII text, the empty string), and `{}` differs from `{""}`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace latchkey::store::postgres {

// Every element double-quoted, `"` and `\` escaped with a backslash.
[[nodiscard]] std::string encode_text_array(const std::vector<std::string>& items);
// The server's output: elements quoted or bare (it quotes an empty element and one holding
// whitespace, a delimiter, a brace, a quote or a backslash). Throws StoreError on anything that
// is not a one-dimensional array without NULLs (a corrupt row or a column of another type).
[[nodiscard]] std::vector<std::string> decode_text_array(std::string_view text);

}  // namespace latchkey::store::postgres
