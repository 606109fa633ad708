#include "cli/migrate.h"

#include <boost/json.hpp>

#include <filesystem>
#include <ostream>

#include "app/key_encryption.h"
#include "store/copy.h"
#include "store/open.h"

namespace latchkey::cli {

int migrate(const std::string& from_url, const std::string& to_url, const std::string& kek_file,
            std::ostream& out, std::ostream& err) {
  if (from_url == "sqlite::memory:" || to_url == "sqlite::memory:") {
    err << "latchkey: migrate: an in-memory database cannot be copied from or into\n";
    return 2;
  }
  if (from_url == to_url) {
    err << "latchkey: migrate: --from and --to name the same database\n";
    return 2;
  }
  // open_database creates a missing SQLite file; a mistyped source must not become an empty
  // one that copies nothing.
  if (from_url.starts_with("sqlite:") && !std::filesystem::exists(from_url.substr(7))) {
    err << "latchkey: migrate: the source database " << from_url << " does not exist\n";
    return 1;
  }
  auto from = store::open_database(from_url);
  auto to = store::open_database(to_url);

  store::CopyOutcome outcome = store::copy_database(*from, *to, [&](const store::TableCopy& t) {
    err << "migrate: " << t.table << ": " << t.copied << " of " << t.source_rows
        << " rows copied\n";
  });
  if (!outcome.refused.empty()) {
    err << "latchkey: migrate: " << outcome.refused
        << "; nothing was copied. Copy into a new, empty database.\n";
    return 1;
  }
  err << "migrate: verified: row counts of " << outcome.tables.size() << " tables, "
      << outcome.tokens_checked << " tokens and " << outcome.codes_checked
      << " codes looked up in the target\n";
  if (!outcome.verified()) {
    for (const std::string& m : outcome.mismatches) err << "latchkey: migrate: " << m << "\n";
    err << "latchkey: migrate: the copy does not match its source; do not use the target\n";
    return 1;
  }

  boost::json::object tables;
  for (const store::TableCopy& t : outcome.tables) tables[t.table] = t.copied;
  boost::json::object result{{"migrated", true},
                             {"tables", std::move(tables)},
                             {"tokens_checked", outcome.tokens_checked},
                             {"codes_checked", outcome.codes_checked}};
  // The keys were copied sealed: the servers on the target need the KEK file of the source.
  if (auto kek = app::kek_file_for(from_url, kek_file); kek && !kek->empty()) {
    result["key_encryption_key_file"] = *kek;
    err << "migrate: the signing keys were copied sealed: start the servers on the target with "
           "--key-encryption-key-file "
        << *kek << " (or LATCHKEY_KEK_FILE)\n";
  }
  out << boost::json::serialize(result) << "\n";
  return 0;
}

}  // namespace latchkey::cli
