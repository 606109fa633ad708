// `latchkey export` and `latchkey import` (docs/behaviour.md §3, docs/operations.md "Backup and
// restore"): an installation's configuration as one JSON document (app/export_document.h), and
// back into an empty database.
#pragma once

#include <iosfwd>
#include <string>

namespace latchkey::cli {

// Writes the document of the database `db_url` to `out_file` (created with mode 0600, refused
// when it exists), or to `out` when `out_file` is empty. Returns the exit status: 0 written; 1
// when the database fails, a signing key is stored unsealed, the document would not import
// (the database changed while its tables were read one after the other), or the file cannot be
// created (the reason on `err`); 2 for an in-memory database, which has nothing to export.
int export_installation(const std::string& db_url, const std::string& out_file, std::ostream& out,
                        std::ostream& err);

// Restores the document in `file` ("-": standard input) into the database `db_url`, in one
// transaction, and prints one JSON object of what it restored on `out`. `kek_file` is the
// --key-encryption-key-file given, if any: the keys stay sealed, so the KEK file the target's
// servers will use (kek_file_for) must open every one, which is checked before anything is
// written. Returns 0 restored; 1 when the document is malformed or of another version, the
// database is not empty, the KEK file does not open the keys, or the database fails (nothing
// is written then; the reason on `err`); 2 for an in-memory database or a file that cannot be
// read.
int import_installation(const std::string& db_url, const std::string& file,
                        const std::string& kek_file, std::ostream& out, std::ostream& err);

}  // namespace latchkey::cli
