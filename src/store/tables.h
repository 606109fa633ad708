// The tables latchkey keeps, by the names both backends give them, for reading a database out
// whole (CopyStore::count_rows, store/copy.h).
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace latchkey::store {

// In CopyStore::count_rows() order, which is also the order a copy fills them in.
inline constexpr std::array<std::string_view, 11> kTableNames = {
    "orgs",       "users",  "apps",     "preauthorizations", "consents",    "signing_keys",
    "auth_codes", "tokens", "sessions", "replay_keys",       "admin_tokens"};

// One statement reading every table's row count at once, so from one snapshot: a single row
// of kTableNames.size() integers in that order. The same text serves SQLite and PostgreSQL.
[[nodiscard]] std::string count_rows_sql();

}  // namespace latchkey::store
