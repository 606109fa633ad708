// Copies committed WAL frames back into the database file on a thread and connection of its
// own, so that the writer's commits never wait for a checkpoint: sqlite would otherwise run one
// inside whichever commit takes the WAL past 1000 pages, stalling that batch and every request
// behind it for as long as it takes to write those pages to a large file. PASSIVE checkpoints
// block neither the writer nor readers; frames a reader still needs wait for the next round.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite/sqlite_connection.h"

namespace latchkey::store::sqlite {

class Checkpointer {
 public:
  explicit Checkpointer(const std::string& path, int threshold_pages = 1000);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // From the writer's commit hook: the WAL now holds `pages` pages. Cheap; never blocks on I/O.
  void wal_grew(int pages);

 private:
  void loop();

  Connection conn_;  // used by the checkpoint thread only
  const int threshold_pages_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool wanted_ = false;    // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;     // last: started once everything above is initialized
};

}  // namespace latchkey::store::sqlite
