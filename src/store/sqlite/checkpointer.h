// WAL checkpoints off the writer's path. SQLite's default copies the WAL back into the database
// file inside the COMMIT that crosses 1000 frames: a few milliseconds (every page copied, the
// database file synced) during which the whole batch waiting on that commit, and everything
// queued behind it, waits too. Under load that is the slowest one percent of token requests.
//
// Here the writer connection never checkpoints by itself. When the WAL reaches kStartFrames, a
// thread of its own, on its own connection, copies it back (a PASSIVE checkpoint: it neither
// waits for nor blocks the writer or the readers). The writer then finishes the job at its next
// commit, copying only the frames appended meanwhile, so that the WAL is wholly copied back and
// the next transaction starts it over from the beginning instead of letting it grow.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "core/cond_var.h"
#include "core/mutex.h"
#include "store/sqlite/sqlite_connection.h"

namespace latchkey::store::sqlite {

class Checkpointer {
 public:
  // SQLite's own threshold (about 4 MiB of WAL with 4 KiB pages).
  static constexpr int kStartFrames = 1000;
  // Should the checkpoint thread fall behind (starved of CPU, or slow storage), the writer waits
  // for its pass to end and copies the rest back itself at this size, so that the WAL stays
  // bounded by this many frames plus one commit's, however the threads are scheduled. A
  // PASSIVE checkpoint cannot run while another holds the checkpoint lock, so without the wait
  // the writer could only retry at each commit while the WAL kept growing.
  static constexpr int kWriterFrames = 8 * kStartFrames;

  // Opens its own connection to `path` and starts the thread.
  explicit Checkpointer(const std::string& path);
  // Stops the thread. The writer connection it was attached to must be closed first.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Turns off the writer connection's own automatic checkpoint and takes it over. Call once,
  // before the writer's first transaction.
  void attach(Connection& writer);

  // Checkpoints completed by the thread and by the writer: for tests and statistics.
  [[nodiscard]] uint64_t background_passes() const EXCLUDES(mu_);
  [[nodiscard]] uint64_t writer_passes() const EXCLUDES(mu_);

 private:
  enum class Phase { idle, copying, copied };

  static int on_commit(void* self, sqlite3* db, const char* schema, int frames);
  void committed(sqlite3* db, int frames) EXCLUDES(mu_);
  void loop() EXCLUDES(mu_);

  std::unique_ptr<Connection> conn_;  // used by the thread only
  mutable Mutex mu_;
  CondVar wake_;    // the thread waits here for work
  CondVar copied_;  // the writer waits here for the thread's pass (backstop)
  Phase phase_ GUARDED_BY(mu_) = Phase::idle;
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t background_passes_ GUARDED_BY(mu_) = 0;
  uint64_t writer_passes_ GUARDED_BY(mu_) = 0;
  std::thread thread_;  // last: started once everything above is initialized
};

}  // namespace latchkey::store::sqlite
