#include "cli/backup.h"

#include <boost/json.hpp>

#include <chrono>
#include <ostream>

#include "store/sqlite/online_backup.h"
#include "store/stores.h"

namespace latchkey::cli {

int backup_database(const std::string& db_url, const std::string& target, std::ostream& out,
                    std::ostream& err) {
  if (db_url.starts_with("postgresql:") || db_url.starts_with("postgres:")) {
    err << "latchkey: backup copies a SQLite database file; back up PostgreSQL with its own "
           "tools (pg_dump, or base backups with WAL archiving: docs/deployment.md \"Backups\"), "
           "or write latchkey's configuration with latchkey export\n";
    return 2;
  }
  if (db_url == "sqlite::memory:" || !db_url.starts_with("sqlite:")) {
    err << "latchkey: backup needs --db sqlite:PATH, the database file to copy\n";
    return 2;
  }
  using Clock = std::chrono::steady_clock;
  Clock::time_point last = Clock::now();
  store::sqlite::BackupProgress done;
  try {
    done = store::sqlite::online_backup(
        db_url.substr(7), target, [&](const store::sqlite::BackupProgress& p) {
          // Small files are copied within the first second and print nothing here.
          if (Clock::now() - last < std::chrono::seconds(1)) return;
          last = Clock::now();
          err << "backup: " << p.pages_copied << " of " << p.pages_total << " pages ("
              << p.pages_copied * p.page_size / (1024 * 1024) << " of "
              << p.pages_total * p.page_size / (1024 * 1024) << " MiB)\n";
        });
  } catch (const store::StoreError& e) {
    err << "latchkey: backup: " << e.what() << "\n";
    return 1;
  }
  out << boost::json::serialize(boost::json::object{{"backup", target},
                                                    {"pages", done.pages_total},
                                                    {"bytes", done.pages_total * done.page_size}})
      << "\n";
  return 0;
}

}  // namespace latchkey::cli
