#include "store/sqlite/online_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "store/sqlite/sqlite_connection.h"
#include "store/stores.h"

namespace latchkey::store::sqlite {
namespace {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, CloseDb>;
// Finishes a copy left unfinished by an exception (a progress callback's, a failed step), so
// that both connections close.
struct FinishBackup {
  void operator()(sqlite3_backup* b) const { sqlite3_backup_finish(b); }
};

// Removes the target and the files SQLite keeps beside it, unless dismissed (the copy is done).
class RemoveOnFailure {
 public:
  explicit RemoveOnFailure(std::string path) : path_(std::move(path)) {}
  ~RemoveOnFailure() {
    if (dismissed_) return;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
      std::error_code ignored;
      std::filesystem::remove(path_ + suffix, ignored);
    }
  }
  RemoveOnFailure(const RemoveOnFailure&) = delete;
  RemoveOnFailure& operator=(const RemoveOnFailure&) = delete;
  void dismiss() { dismissed_ = true; }

 private:
  std::string path_;
  bool dismissed_ = false;
};

[[noreturn]] void fail_on(sqlite3* db, const std::string& during) {
  throw StoreError("sqlite: backup: " + during + ": " + sqlite3_errmsg(db));
}

}  // namespace

BackupProgress online_backup(const std::string& source, const std::string& target,
                             const std::function<void(const BackupProgress&)>& progress,
                             const BackupOptions& options) {
  if (!std::filesystem::exists(source)) {
    throw StoreError("the database " + source + " does not exist");
  }
  // O_EXCL: an existing file, perhaps an earlier backup, is never overwritten. An empty file is
  // an empty database to SQLite, which the copy then fills.
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw StoreError("cannot create " + target + ": " + std::strerror(errno) +
                     (errno == EEXIST ? " (a backup is written to a new file)" : ""));
  }
  ::close(fd);
  RemoveOnFailure cleanup(target);

  Connection from(source, Connection::Access::read_only);
  // The snapshot the whole copy reads (see the header): a read transaction begins at its
  // first read.
  from.exec("BEGIN");
  (void)from.query_int("SELECT count(*) FROM sqlite_master");

  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(target.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  DbHandle to(raw);
  if (rc != SQLITE_OK) {
    throw StoreError("sqlite: backup: opening " + target + ": " +
                     (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  std::unique_ptr<sqlite3_backup, FinishBackup> backup(
      sqlite3_backup_init(to.get(), "main", from.handle(), "main"));
  if (!backup) fail_on(to.get(), "starting");

  BackupProgress at;
  at.page_size = from.query_int("PRAGMA page_size");
  for (;;) {
    rc = sqlite3_backup_step(backup.get(), options.pages_per_step);
    at.pages_total = sqlite3_backup_pagecount(backup.get());
    at.pages_copied = at.pages_total - sqlite3_backup_remaining(backup.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
      fail_on(to.get(), "copying");
    }
    if (progress) progress(at);
    std::this_thread::sleep_for(options.pause);
  }
  if (sqlite3_backup_finish(backup.release()) != SQLITE_OK) fail_on(to.get(), "finishing");
  if (progress) progress(at);
  from.exec("COMMIT");

  // The copy opens as a database and its pages hold together.
  sqlite3_stmt* check = nullptr;
  if (sqlite3_prepare_v2(to.get(), "PRAGMA quick_check", -1, &check, nullptr) != SQLITE_OK) {
    fail_on(to.get(), "checking the copy");
  }
  rc = sqlite3_step(check);
  const unsigned char* verdict = rc == SQLITE_ROW ? sqlite3_column_text(check, 0) : nullptr;
  const std::string answer = verdict != nullptr ? reinterpret_cast<const char*>(verdict) : "";
  sqlite3_finalize(check);
  if (answer != "ok") {
    throw StoreError("sqlite: backup: the copy fails PRAGMA quick_check: " + answer);
  }
  // Closing the copy checkpoints and removes its -wal: one self-contained file remains.
  if (sqlite3_close(to.release()) != SQLITE_OK) {
    throw StoreError("sqlite: backup: closing " + target + " failed");
  }
  cleanup.dismiss();
  return at;
}

}  // namespace latchkey::store::sqlite
