// GET /readyz (docs/behaviour.md §4): whether this node can serve, that is whether its database
// answers (store::HealthStore::ping). A probe storm must not become a load on the database, and
// a database that hangs must not hang the probes:
//  - one ping at a time, run by a thread of its own; its answer is reused for `max_age_ms`;
//  - a probe that finds the last answer older asks for a ping (unless one is running) and waits
//    for it at most `timeout`; a ping that has not answered by then counts as unavailable, and
//    the next probes wait for that same ping rather than start more.
// So every probe is answered within `timeout`, and the database sees at most one ping per
// `max_age_ms` (plus the length of a ping) however many probes come.
//
// Thread safety: ready() may be called from any thread at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#include "core/clock.h"
#include "core/cond_var.h"
#include "core/mutex.h"
#include "store/stores.h"

namespace latchkey::app {

class Readiness {
 public:
  struct Options {
    int64_t max_age_ms = 1000;                // how long a ping's answer is reused (by `clock`)
    std::chrono::milliseconds timeout{2000};  // how long a probe waits for a ping (real time)
  };

  // Starts the pinging thread; the first ping runs when the first probe asks. `db` and `clock`
  // must outlive this object.
  Readiness(store::HealthStore& db, const Clock& clock, Options options);
  Readiness(store::HealthStore& db, const Clock& clock) : Readiness(db, clock, Options{}) {}
  // Waits for a ping in flight (bounded by the backend's own timeouts), then stops the thread.
  ~Readiness();
  Readiness(const Readiness&) = delete;
  Readiness& operator=(const Readiness&) = delete;

  // True when the database answered a ping that finished at most `max_age_ms` ago, or a ping
  // this call waited for; false when that ping failed or did not finish within `timeout`.
  [[nodiscard]] bool ready() EXCLUDES(mu_);

 private:
  void loop() EXCLUDES(mu_);

  store::HealthStore& db_;
  const Clock& clock_;
  const Options options_;
  Mutex mu_;
  CondVar asked_;                        // the thread waits here for a probe to ask for a ping
  CondVar answered_;                     // probes wait here for the ping to finish
  bool wanted_ GUARDED_BY(mu_) = false;  // a ping is asked for or running
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t pings_ GUARDED_BY(mu_) = 0;  // pings finished so far
  bool last_ok_ GUARDED_BY(mu_) = false;
  int64_t last_ms_ GUARDED_BY(mu_) = 0;  // clock_.now_ms() when the last ping finished
  std::thread thread_;                   // last: started once the members above are set
};

}  // namespace latchkey::app
