#include "store/sqlite/checkpointer.h"

namespace latchkey::store::sqlite {

Checkpointer::Checkpointer(const std::string& path)
    : conn_(std::make_unique<Connection>(path)), thread_([this] { loop(); }) {}

Checkpointer::~Checkpointer() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  copied_.notify_all();
  thread_.join();
}

void Checkpointer::attach(Connection& writer) {
  // Also switches off SQLite's default hook: wal_hook replaces it, and only one is kept.
  sqlite3_wal_hook(writer.handle(), &Checkpointer::on_commit, this);
}

// Runs on the writer's thread, inside every COMMIT, with the number of frames now in the WAL.
int Checkpointer::on_commit(void* self, sqlite3* db, const char* /*schema*/, int frames) {
  static_cast<Checkpointer*>(self)->committed(db, frames);
  return SQLITE_OK;
}

void Checkpointer::committed(sqlite3* db, int frames) {
  bool finish = false;
  {
    MutexLock lock(mu_);
    if (phase_ == Phase::idle && frames >= kStartFrames) {
      phase_ = Phase::copying;
      wake_.notify_one();
      return;
    }
    // The thread copied the bulk; what is left is what the writer appended since.
    finish = phase_ == Phase::copied;
    if (frames >= kWriterFrames) {
      // The backstop: the thread lags far behind. Its pass holds the checkpoint lock, so wait
      // for it to end (the commit is durable already; only this writer's next work waits),
      // then copy the rest here.
      while (!stopping_ && phase_ == Phase::copying) copied_.wait(lock);
      finish = true;
    }
  }
  if (!finish) return;
  // PASSIVE never waits: if the thread is still copying, SQLITE_BUSY, and the next commit
  // tries again. Errors are not the commit's: the data is durable in the WAL either way.
  const int rc =
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  MutexLock lock(mu_);
  if (rc == SQLITE_OK) {
    ++writer_passes_;
    if (phase_ == Phase::copied) phase_ = Phase::idle;
  }
}

void Checkpointer::loop() {
  MutexLock lock(mu_);
  for (;;) {
    while (!stopping_ && phase_ != Phase::copying) wake_.wait(lock);
    if (stopping_) return;
    lock.unlock();
    const int rc = sqlite3_wal_checkpoint_v2(conn_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                             nullptr, nullptr);
    lock.lock();
    if (rc == SQLITE_OK) ++background_passes_;
    // Even after a failure the writer goes next: its own pass copies everything that is left.
    phase_ = Phase::copied;
    copied_.notify_all();
  }
}

uint64_t Checkpointer::background_passes() const {
  MutexLock lock(mu_);
  return background_passes_;
}

uint64_t Checkpointer::writer_passes() const {
  MutexLock lock(mu_);
  return writer_passes_;
}

}  // namespace latchkey::store::sqlite
