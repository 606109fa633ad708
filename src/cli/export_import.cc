#include "cli/export_import.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>
#include <string_view>

#include "app/export_document.h"
#include "app/key_encryption.h"
#include "cli/kek_check.h"
#include "crypto/key_sealer.h"
#include "store/open.h"
#include "store/snapshot.h"

namespace latchkey::cli {
namespace {

// Writes `text` to a new file `path`, mode 0600 (it holds password and secret hashes), and
// makes it durable. Empty on success, why not otherwise.
std::string write_new_file(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot create " + path + ": " + std::strerror(errno);
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = "writing " + path + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(path.c_str());
      return why;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string why = "writing " + path + ": " + std::strerror(errno);
    ::unlink(path.c_str());
    return why;
  }
  return {};
}

}  // namespace

int export_installation(const std::string& db_url, const std::string& out_file, std::ostream& out,
                        std::ostream& err) {
  if (db_url == "sqlite::memory:") {
    err << "latchkey: export: an in-memory database has nothing to export; name one with --db\n";
    return 2;
  }
  // open_database creates a missing SQLite file: a mistyped path must not export nothing.
  if (db_url.starts_with("sqlite:") && !std::filesystem::exists(db_url.substr(7))) {
    err << "latchkey: export: the database " << db_url << " does not exist\n";
    return 1;
  }
  auto db = store::open_database(db_url);
  auto doc = app::export_document(store::read_snapshot(*db));
  if (!doc) {
    err << "latchkey: export: " << doc.error().description() << "\n";
    return 1;
  }
  // The tables are read one after the other: an admin change made meanwhile (a user created
  // after the users were read, approving an app before the approvals are) could leave a record
  // naming one the document lacks. What import would refuse is not written.
  if (auto back = app::parse_export_document(*doc); !back) {
    err << "latchkey: export: the database changed while it was read ("
        << back.error().description() << "); run export again\n";
    return 1;
  }
  if (out_file.empty()) {
    out << *doc;
    out.flush();
    return out ? 0 : 1;
  }
  if (std::string why = write_new_file(out_file, *doc); !why.empty()) {
    err << "latchkey: export: " << why << "\n";
    return 1;
  }
  return 0;
}

int import_installation(const std::string& db_url, const std::string& file,
                        const std::string& kek_file, std::ostream& out, std::ostream& err) {
  if (db_url == "sqlite::memory:") {
    err << "latchkey: import: an in-memory database would be lost when import exits; name one "
           "with --db\n";
    return 2;
  }
  std::string text;
  if (file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      err << "latchkey: import: cannot read " << file << ": " << std::strerror(errno) << "\n";
      return 2;
    }
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto snapshot = app::parse_export_document(text);
  if (!snapshot) {
    err << "latchkey: import: " << file << ": " << snapshot.error().description()
        << "; nothing was imported\n";
    return 1;
  }
  // The keys stay sealed: the servers on this database need the exporting installation's KEK.
  auto kek_path = app::kek_file_for(db_url, kek_file);
  if (!kek_path) {
    err << "latchkey: import: " << kek_path.error().description() << "\n";
    return 2;
  }
  if (std::string problem = sealed_keys_problem(snapshot->keys, *kek_path); !problem.empty()) {
    err << "latchkey: import: " << problem
        << " (the keys are sealed under the exporting installation's key-encryption key: give "
           "its file); nothing was imported\n";
    return 1;
  }
  auto db = store::open_database(db_url);
  std::string busy;
  for (const store::TableRows& t : db->count_rows()) {
    if (t.rows == 0) continue;
    busy += (busy.empty() ? "" : ", ") + t.table + " " + std::to_string(t.rows);
  }
  if (!busy.empty() || !db->restore(*snapshot)) {
    err << "latchkey: import: the target database is not empty"
        << (busy.empty() ? "" : " (" + busy + ")")
        << "; nothing was imported. Import into a new, empty database.\n";
    return 1;
  }
  std::set<std::string> kek_ids;
  for (const auto& k : snapshot->keys) {
    if (auto id = crypto::KeySealer::kek_id_of(k.private_pem)) kek_ids.insert(*id);
  }
  boost::json::object result{{"imported", true},
                             {"orgs", snapshot->orgs.size()},
                             {"users", snapshot->users.size()},
                             {"apps", snapshot->apps.size()},
                             {"preauthorizations", snapshot->preauthorizations.size()},
                             {"consents", snapshot->consents.size()},
                             {"signing_keys", snapshot->keys.size()}};
  if (!kek_ids.empty()) {
    result["key_encryption_key_file"] = *kek_path;
    err << "import: the signing keys stay sealed: start the servers on this database with "
           "--key-encryption-key-file "
        << *kek_path << " (or LATCHKEY_KEK_FILE)\n";
  }
  out << boost::json::serialize(result) << "\n";
  return 0;
}

}  // namespace latchkey::cli
