// Versioned schema migrations for the PostgreSQL backend, tracked in the one-row table
// latchkey_schema. Migrations are append-only: a released migration is never edited, a change
// is a new one. The schema means what the SQLite backend's does (store/sqlite/migrations.cc),
// written in PostgreSQL's types; its versions count on their own.
#pragma once

#include <cstdint>

#include "store/postgres/postgres_connection.h"

namespace latchkey::store::postgres {

// The version the newest migration brings a database to.
[[nodiscard]] int64_t latest_schema_version();

// The database's current version (0 for a database latchkey has not used).
[[nodiscard]] int64_t schema_version(Connection& conn);

// Applies every migration newer than the database's version, in one transaction (PostgreSQL's
// DDL is transactional): a failure leaves the previous version intact. An advisory lock orders
// processes starting at once against the same database, so they migrate once. Throws StoreError
// if the database is newer than this build understands.
void migrate(Connection& conn);

}  // namespace latchkey::store::postgres
