// `latchkey migrate --from URL --to URL`: copies every row of one database into another, empty
// one and verifies the copy (store/copy.h; docs/operations.md "Moving from SQLite to
// PostgreSQL"). Built for sqlite:PATH to postgresql://…, and works between any two backends.
#pragma once

#include <iosfwd>
#include <string>

namespace latchkey::cli {

// Opens both databases (a sqlite:PATH source must exist; it is not created), copies, verifies,
// and returns the exit status: 0 copied and verified, with one JSON object on `out`; 1 when the
// source is missing, the target is not empty (nothing copied), a database fails, or the
// verification finds a difference; 2 for a usage error (an in-memory database, the same URL
// twice). A progress line per table, and every reason for a non-zero status, go to `err`.
// `kek_file` is the --key-encryption-key-file given, if any: the copied keys stay sealed under
// the source's KEK, and the output names the file the target's servers need.
int migrate(const std::string& from_url, const std::string& to_url, const std::string& kek_file,
            std::ostream& out, std::ostream& err);

}  // namespace latchkey::cli
