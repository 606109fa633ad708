#include "cli/migrate.h"

#include <boost/json.hpp>

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "app/key_encryption.h"
#include "cli/kek_check.h"
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
  // The keys travel sealed, and the target's servers will be given the source's KEK file: check
  // that it opens every sealed key before anything is copied, so that a wrong file named here is
  // found now rather than by servers that refuse to start on the copy.
  auto kek_path = app::kek_file_for(from_url, kek_file);
  if (!kek_path) {
    err << "latchkey: migrate: " << kek_path.error().description() << "\n";
    return 2;
  }
  if (std::string problem = sealed_keys_problem(from->list_keys(), *kek_path); !problem.empty()) {
    err << "latchkey: migrate: " << problem << "; nothing was copied\n";
    return 1;
  }
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
  if (!kek_path->empty()) {
    result["key_encryption_key_file"] = *kek_path;
    err << "migrate: the signing keys were copied sealed: start the servers on the target with "
           "--key-encryption-key-file "
        << *kek_path << " (or LATCHKEY_KEK_FILE)\n";
  }
  out << boost::json::serialize(result) << "\n";
  return 0;
}

}  // namespace latchkey::cli
