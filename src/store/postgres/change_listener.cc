#include "store/postgres/change_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>
#include <utility>

namespace latchkey::store::postgres {

Statement change_notice(const Change& change) {
  return Statement{"SELECT pg_notify($1, $2)", Params().text(kChangeChannel).text(to_wire(change))};
}

void notify_change(Connection& conn, const Change& change) {
  const Statement s = change_notice(change);
  conn.run(s.sql, s.params);
}

ChangeListener::ChangeListener(std::string conninfo, ChangeHandlers handlers, Options options)
    : conninfo_(std::move(conninfo)), handlers_(std::move(handlers)), options_(options) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  thread_ = std::thread([this] { run(); });
}

ChangeListener::~ChangeListener() {
  stopping_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  // Cannot fail short of a full counter, which one write per listener never reaches.
  [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof one);
  thread_.join();
  close(wake_fd_);
}

void ChangeListener::run() {
  std::chrono::milliseconds retry = options_.retry_min;
  while (!stopping_.load(std::memory_order_acquire)) {
    bool listening = false;
    try {
      Connection conn(conninfo_);
      conn.exec(std::string("LISTEN ") + kChangeChannel);
      listening = true;
      retry = options_.retry_min;
      handlers_.on_listening(true);
      follow(conn);
      return;  // stopping
    } catch (const StoreError&) {
      // Connecting failed or the connection broke; either way announcements may be missed.
      if (listening) handlers_.on_listening(false);
    }
    if (!pause(retry)) return;
    retry = std::min(retry * 2, options_.retry_max);
  }
}

void ChangeListener::follow(Connection& conn) {
  const int timeout_ms = static_cast<int>(options_.keepalive.count());
  for (;;) {
    pollfd fds[2] = {{conn.socket(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int ready = poll(fds, 2, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw ConnectionLost("postgres: waiting for announcements failed");
    }
    if (fds[1].revents != 0) return;
    if (ready == 0) {
      // Quiet for a while: a round trip proves the server is still there (a server that
      // vanished without closing the socket would otherwise leave the listener deaf).
      conn.exec("SELECT 1");
    } else {
      conn.consume_input();
    }
    for (const std::string& payload : conn.take_notifications(kChangeChannel)) {
      if (auto change = parse_change(payload)) handlers_.on_change(*change);
    }
  }
}

bool ChangeListener::pause(std::chrono::milliseconds d) {
  pollfd fd{wake_fd_, POLLIN, 0};
  while (poll(&fd, 1, static_cast<int>(d.count())) < 0 && errno == EINTR) {
  }
  return !stopping_.load(std::memory_order_acquire);
}

}  // namespace latchkey::store::postgres
