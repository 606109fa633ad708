// How a server hears of the changes other processes make to the shared database (store/change.h).
// Every write that changes a record a server may cache also runs pg_notify on kChannel inside
// its own transaction, so the announcement is delivered if and only if the change committed,
// and after it is visible. A ChangeListener holds one connection of its own that LISTENs on the
// channel and a thread that waits on that connection's socket and passes each announcement to
// the handlers as it arrives (typically within a millisecond of the COMMIT).
//
// A lost connection (a database restart, a failover, a broken network) is noticed when the
// socket closes, or at the latest by a query sent after `keepalive` without traffic. The
// listener then says on_listening(false), reconnects (after `retry_min`, doubling up to
// `retry_max`), LISTENs again and says on_listening(true): the server must drop what it cached,
// since announcements made in between are lost. LISTEN comes before that call, so nothing
// committed after the server dropped its copies can go unheard.
//
// Thread safety: the handlers run on the listener's thread, one at a time. The destructor wakes
// the thread and joins it.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "store/change.h"
#include "store/postgres/postgres_connection.h"

namespace latchkey::store::postgres {

// The NOTIFY channel of every latchkey process on one database.
inline constexpr char kChangeChannel[] = "latchkey_changes";

// Announces `change` to the listeners, when the transaction `conn` is in commits (at once, when
// it runs outside one).
void notify_change(Connection& conn, const Change& change);
// The statement notify_change runs, to send in a pipeline (group_commit.h).
Statement change_notice(const Change& change);

class ChangeListener final : public ChangeWatch {
 public:
  struct Options {
    std::chrono::milliseconds keepalive{5000};
    std::chrono::milliseconds retry_min{200};
    std::chrono::milliseconds retry_max{5000};
  };

  ChangeListener(std::string conninfo, ChangeHandlers handlers, Options options);
  ~ChangeListener() override;
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

 private:
  void run();
  // Passes on the announcements `conn` receives until the listener stops (returns) or the
  // connection fails (throws StoreError).
  void follow(Connection& conn);
  // Waits for `d` or until the listener stops; false once it stops.
  bool pause(std::chrono::milliseconds d);

  const std::string conninfo_;
  const ChangeHandlers handlers_;
  const Options options_;
  int wake_fd_ = -1;  // an eventfd written once by the destructor
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace latchkey::store::postgres
