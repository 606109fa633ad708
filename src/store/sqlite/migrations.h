// Versioned schema migrations for the SQLite backend, tracked in PRAGMA user_version.
// Migrations are append-only: a released migration is never edited, a change is a new one.
#pragma once

#include <cstdint>

#include "store/sqlite/sqlite_connection.h"

namespace latchkey::store::sqlite {

// The version the newest migration brings a database to.
[[nodiscard]] int64_t latest_schema_version();

// The database's current version (0 for a new, empty file).
[[nodiscard]] int64_t schema_version(Connection& conn);

// Applies every migration newer than the database's version; a no-op on an up-to-date file.
// Each migration and its user_version bump commit together in one IMMEDIATE transaction, so a
// crash leaves the previous version intact and two processes starting at once migrate once.
// Throws StoreError if the file is newer than this build understands.
void migrate(Connection& conn);

}  // namespace latchkey::store::sqlite
