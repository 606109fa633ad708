// Opens the storage backend a --db URL names (docs/behaviour.md §2, docs/configuration.md).
#pragma once

#include <memory>
#include <string>

#include "store/stores.h"

namespace latchkey::store {

// "sqlite:PATH" (relative or absolute; "sqlite::memory:" for a private in-memory database)
// opens or creates that file and migrates it. "postgresql://..." or "postgres://..." is a libpq
// connection URI (postgresql://user[:password]@host[:port]/dbname, and its query parameters such
// as ?host=/run/postgresql for a Unix socket or ?sslmode=verify-full); it connects and migrates
// the database, which must exist. Three query parameters are latchkey's own and are not passed
// to libpq: pool_size (connections this process may open, default 16), pool_wait_ms (how long a
// call waits for a free one before it fails, default 5000) and statement_timeout_ms (how long
// one statement may run before the server cancels it and the call fails, default 5000; 0 keeps
// the server's setting). Throws StoreError for any other form, an invalid parameter of ours, or
// a database that cannot be opened.
[[nodiscard]] std::unique_ptr<Database> open_database(const std::string& url);

}  // namespace latchkey::store
