// `latchkey backup PATH` (docs/behaviour.md §3, docs/operations.md "Backup and restore"): an
// online copy of a SQLite database, safe while `serve` runs on it (store/sqlite/online_backup.h).
#pragma once

#include <iosfwd>
#include <string>

namespace latchkey::cli {

// Copies the sqlite:PATH database `db_url` into the new file `target` and prints one JSON
// object ({"backup": target, "pages": N, "bytes": N}) on `out`; a progress line on `err` about
// once a second while a large copy runs. Returns 0 copied; 1 when the copy fails or `target`
// exists (nothing is left behind); 2 for a PostgreSQL or in-memory database, which it does not
// copy (PostgreSQL: pg_dump, docs/deployment.md "Backups").
int backup_database(const std::string& db_url, const std::string& target, std::ostream& out,
                    std::ostream& err);

}  // namespace latchkey::cli
