// Opens the storage backend a --db URL names (docs/behaviour.md §2).
#pragma once

#include <memory>
#include <string>

#include "store/stores.h"

namespace latchkey::store {

// "sqlite:PATH" (relative or absolute; "sqlite::memory:" for a private in-memory database)
// opens or creates that file and migrates it. "postgresql://..." / "postgres://..." name the
// shared backend, which is not built yet. Throws StoreError for those, any other form, or an
// unopenable database.
[[nodiscard]] std::unique_ptr<Database> open_database(const std::string& url);

}  // namespace latchkey::store
