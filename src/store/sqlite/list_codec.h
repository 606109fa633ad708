// String lists (scopes, callbacks, permission sets) stored in one TEXT column as a JSON array
// of strings. JSON rather than newline-joined text so that any byte sequence round-trips
// exactly (newlines, quotes, empty strings) and `[]` differs from `[""]`; it also leaves the
// column readable by sqlite's json_each() for ad-hoc queries.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace latchkey::store::sqlite {

[[nodiscard]] std::string encode_list(const std::vector<std::string>& items);
// Throws StoreError on text that is not a JSON array of strings (a corrupt row).
[[nodiscard]] std::vector<std::string> decode_list(std::string_view json);

}  // namespace latchkey::store::sqlite
