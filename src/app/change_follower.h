// Keeps a running server in step with what other processes write to its database
// (docs/deployment.md "What each node caches"): the read cache and the signing keys.
//
//  - Announcements (store/change.h), from a backend that makes them (PostgreSQL): each drops the
//    cached copies it names; a change of the signing keys reloads the key ring; a watch that
//    (re)starts listening drops the whole cache and checks the keys, since what was announced
//    while it was not listening was missed.
//  - Every `key_check_ms` (default 10 s) and on those occasions, the stored keys are listed and,
//    when they differ from the ones last loaded (a key made, rotated or retired by `latchkey keys
//    rotate` on any backend), the ring is reloaded: no SIGHUP is needed, on SQLite either.
//  - A reload asked for (SIGHUP, a key the admin API made) goes through reload_keys(), which
//    notes the keys it loaded, so that the next check does not load the same keys again.
//
// Thread safety: owns a thread of its own (key checks) and the backend's watch (announcements);
// the destructor stops both. `cache` (may be null: the cache is off) and `app` must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "app/application.h"
#include "core/cond_var.h"
#include "core/mutex.h"
#include "store/caching_database.h"
#include "store/stores.h"

namespace latchkey::app {

class ChangeFollower {
 public:
  struct Options {
    int64_t key_check_ms = 10'000;
    // Told what happened: keys reloaded, announcements heard or lost.
    std::function<void(const std::string&)> info;
    std::function<void(const std::string&)> warn;
  };

  ChangeFollower(store::Database& db, store::CachingDatabase* cache, Application& app,
                 Options options);
  ~ChangeFollower();
  ChangeFollower(const ChangeFollower&) = delete;
  ChangeFollower& operator=(const ChangeFollower&) = delete;

  // Reloads the signing keys now, changed or not, and notes which stored keys the ring was
  // loaded from, as a check that finds them changed does (the same result as
  // Application::reload_signing_keys). Any thread.
  Result<std::string> reload_keys() EXCLUDES(keys_mu_);

  // Keys reloaded since the start, by checks and by reload_keys (tests).
  [[nodiscard]] int reloads();

 private:
  void on_change(const store::Change& change);
  void on_listening(bool on);
  // Asks the key thread to compare the stored keys now.
  void check_keys_soon();
  void run();
  // Lists the stored keys and reloads the ring when they differ from the last ones loaded.
  void check_keys() EXCLUDES(keys_mu_);
  // Lists the stored keys, then reloads the ring (always, or only when `if_changed` and they
  // differ from loaded_); on success, loaded_ is what was listed. Listed first: a key stored in
  // between is then in the ring but not yet in loaded_, and the next check reloads once more,
  // rather than the other way round, which would miss it.
  std::optional<Result<std::string>> reload(bool if_changed) REQUIRES(keys_mu_);

  store::Database& db_;
  store::CachingDatabase* const cache_;
  Application& app_;
  const Options options_;
  Mutex keys_mu_;  // one reload at a time: the key thread's or reload_keys'
  std::string loaded_ GUARDED_BY(keys_mu_);  // the stored keys the ring was last loaded from
  Mutex mu_;
  CondVar wake_;
  bool check_now_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  int reloads_ GUARDED_BY(mu_) = 0;
  std::thread thread_;
  std::unique_ptr<store::ChangeWatch> watch_;  // last: its handlers use what is above
};

}  // namespace latchkey::app
