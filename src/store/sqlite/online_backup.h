// An online copy of a SQLite database file with SQLite's backup API (`latchkey backup PATH`,
// docs/operations.md "Backup and restore"), safe while a server writes to the file.
//
// How it stays out of a running server's way: the source is opened read-only and one read
// transaction is held on it for the whole copy. In WAL mode a reader never blocks the writer,
// and the copy is of that transaction's snapshot: consistent, and never restarted by the
// server's commits (which, without the held snapshot, would make sqlite3_backup_step start over
// and a busy database's copy never finish). The pages are copied a few at a time with a short
// pause between batches, so the copy's reads do not crowd out the server's disk. While the copy
// runs, checkpoints cannot move the WAL past its snapshot, so the -wal file grows by what the
// server writes meanwhile and shrinks back at the next checkpoint after it.
//
// Thread safety: a free function on its own connections; any number may run at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace latchkey::store::sqlite {

struct BackupProgress {
  int64_t pages_copied = 0;
  int64_t pages_total = 0;
  int64_t page_size = 0;  // bytes
};

struct BackupOptions {
  int pages_per_step = 256;            // 1 MiB of 4 KiB pages
  std::chrono::milliseconds pause{2};  // between two steps
};

// Copies the database file `source` into a new file `target`, created with mode 0600 (refused,
// touching nothing, when `target` exists), and checks the copy (PRAGMA quick_check). `progress`
// is called after every step. Returns the last progress (every page copied). Throws StoreError
// when the source does not exist or is not a database, the target exists, or the copy fails;
// a target it created is then removed.
BackupProgress online_backup(const std::string& source, const std::string& target,
                             const std::function<void(const BackupProgress&)>& progress,
                             const BackupOptions& options = {});

}  // namespace latchkey::store::sqlite
