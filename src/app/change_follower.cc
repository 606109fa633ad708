#include "app/change_follower.h"

#include <chrono>
#include <exception>
#include <utility>

namespace latchkey::app {
namespace {

// What identifies the stored keys: every kid with its retirement time (rotation adds a kid and
// retires another; a reload is needed exactly when this text changes).
std::string fingerprint(const std::vector<store::SigningKeyRecord>& keys) {
  std::string out;
  for (const auto& k : keys) out += k.kid + "/" + std::to_string(k.retired_ms) + ";";
  return out;
}

}  // namespace

ChangeFollower::ChangeFollower(store::Database& db, store::CachingDatabase* cache, Application& app,
                               Options options)
    : db_(db), cache_(cache), app_(app), options_(std::move(options)) {
  // The application loaded its ring from these keys a moment ago. Should one have changed in
  // between, the first check (within key_check_ms) catches it.
  try {
    MutexLock lock(keys_mu_);
    loaded_ = fingerprint(db_.list_keys());
  } catch (const std::exception&) {
    // The database is away: the first check that reaches it reloads.
  }
  thread_ = std::thread([this] { run(); });
  watch_ = db_.watch_changes(
      {[this](const store::Change& c) { on_change(c); }, [this](bool on) { on_listening(on); }});
}

ChangeFollower::~ChangeFollower() {
  watch_.reset();  // no handler runs after this
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

int ChangeFollower::reloads() {
  MutexLock lock(mu_);
  return reloads_;
}

void ChangeFollower::on_change(const store::Change& change) {
  if (change.kind == store::Change::Kind::keys) {
    check_keys_soon();
  } else if (change.kind == store::Change::Kind::throttle) {
    app_.hear(change);
  } else if (cache_ != nullptr) {
    cache_->apply(change);
  }
}

void ChangeFollower::on_listening(bool on) {
  if (cache_ != nullptr) cache_->listening(on);
  if (on) {
    if (options_.info) options_.info("hearing the database's change announcements");
    check_keys_soon();
  } else if (options_.warn) {
    options_.warn(
        "lost the database's change announcements; cached records are re-read after --cache-ms "
        "until they are back");
  }
}

void ChangeFollower::check_keys_soon() {
  {
    MutexLock lock(mu_);
    check_now_ = true;
  }
  wake_.notify_all();
}

void ChangeFollower::run() {
  for (;;) {
    {
      MutexLock lock(mu_);
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.key_check_ms);
      while (!stopping_ && !check_now_) {
        if (!wake_.wait_until(lock, deadline)) break;
      }
      if (stopping_) return;
      check_now_ = false;
    }
    check_keys();
  }
}

void ChangeFollower::check_keys() {
  std::optional<Result<std::string>> reloaded;
  {
    MutexLock lock(keys_mu_);
    reloaded = reload(/*if_changed=*/true);
  }
  if (!reloaded) return;
  if (!*reloaded) {
    // loaded_ is kept for the next check to try again; the old ring stays in use meanwhile.
    if (options_.warn) {
      options_.warn("signing key reload failed, keeping the old keys: " +
                    reloaded->error().debug());
    }
    return;
  }
  if (options_.info) options_.info("signing keys reloaded: " + **reloaded);
}

Result<std::string> ChangeFollower::reload_keys() {
  MutexLock lock(keys_mu_);
  return *reload(/*if_changed=*/false);
}

std::optional<Result<std::string>> ChangeFollower::reload(bool if_changed) {
  std::string stored;
  try {
    stored = fingerprint(db_.list_keys());
  } catch (const std::exception& e) {
    if (if_changed) {
      if (options_.warn) options_.warn(std::string("cannot list the signing keys: ") + e.what());
      return std::nullopt;
    }
    // Asked for: reloaded all the same (the ring's own read reports the failure), and the
    // next check that lists the keys reloads once more.
    stored.clear();
  }
  if (if_changed && stored == loaded_) return std::nullopt;
  Result<std::string> reloaded = app_.reload_signing_keys();
  if (reloaded) {
    loaded_ = std::move(stored);
    MutexLock lock(mu_);
    ++reloads_;
  }
  return reloaded;
}

}  // namespace latchkey::app
