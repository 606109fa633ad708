// A COMMIT whose outcome is unknown settles as failed, never as durable (postgres_database.h,
// "Durability"; docs/behaviour.md §2). A small TCP proxy sits between libpq and the test
// cluster's Unix socket and cuts a connection at the next COMMIT it sees: either before the
// COMMIT reaches the server (nothing was applied) or right after (the server applied it, but
// its answer never comes back). Either way the client cannot know, and must not tell anyone the
// write is durable. Skipped, saying so, without LATCHKEY_TEST_POSTGRES_URL, or when that URL
// does not name a Unix socket directory (host=/...), as scripts/pg-cluster.sh's does.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "postgres_fixture.h"
#include "postgres_server.h"
#include "store/postgres/postgres_database.h"

namespace latchkey::store::postgres {
namespace {

// The value of the query parameter `key` of a libpq URI, if it has one.
std::optional<std::string> query_value(const std::string& url, const std::string& key) {
  const std::size_t q = url.find('?');
  if (q == std::string::npos) return std::nullopt;
  std::size_t at = q + 1;
  while (at < url.size()) {
    std::size_t end = url.find('&', at);
    if (end == std::string::npos) end = url.size();
    const std::string param = url.substr(at, end - at);
    if (param.rfind(key + "=", 0) == 0) return param.substr(key.size() + 1);
    at = end + 1;
  }
  return std::nullopt;
}

// `url` with the query parameter `key` given `value` in place of its own.
std::string with_query_value(const std::string& url, const std::string& key,
                             const std::string& value) {
  const std::size_t at = url.find(key + "=", url.find('?'));
  const std::size_t end = url.find('&', at);
  return url.substr(0, at) + key + "=" + value + (end == std::string::npos ? "" : url.substr(end));
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

uint32_t big_endian_u32(const std::string& s, std::size_t at) {
  uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// The `index`th NUL-terminated string of `message` from `at` on ("" past the end).
std::string c_string(const std::string& message, std::size_t at, int index) {
  for (; index > 0 && at < message.size(); --index) {
    const std::size_t nul = message.find('\0', at);
    at = nul == std::string::npos ? message.size() : nul + 1;
  }
  if (at >= message.size()) return "";
  return std::string(message.c_str() + at);
}

// A TCP proxy on 127.0.0.1 in front of a PostgreSQL Unix socket. It relays whole messages of the
// frontend protocol from client to server (so that it can see each one) and bytes back. Armed,
// it cuts the next connection that sends COMMIT, as a simple query or as a prepared statement
// in a pipeline (the writer sends a batch's COMMIT with its statements): it forwards the COMMIT
// or not, then closes both sides of that connection.
class CommitCutter {
 public:
  explicit CommitCutter(std::string socket_path) : socket_path_(std::move(socket_path)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error(std::string("proxy: cannot listen: ") + std::strerror(errno));
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~CommitCutter() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    acceptor_.join();
    ::close(listen_fd_);
    std::lock_guard lock(mu_);
    for (std::thread& t : relays_) t.join();
  }

  CommitCutter(const CommitCutter&) = delete;
  CommitCutter& operator=(const CommitCutter&) = delete;

  [[nodiscard]] int port() const { return port_; }
  // The next COMMIT cuts its connection; `forward` sends it to the server first.
  void arm(bool forward) {
    forward_ = forward;
    armed_ = true;
  }
  [[nodiscard]] int cuts() const { return cuts_.load(); }

 private:
  void accept_loop() {
    for (;;) {
      const int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;  // shut down
      std::lock_guard lock(mu_);
      relays_.emplace_back([this, client] { relay(client); });
    }
  }

  void relay(int client) {
    const int server = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path_.c_str(), sizeof addr.sun_path - 1);
    if (server < 0 || ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(client);
      if (server >= 0) ::close(server);
      return;
    }
    std::string pending;  // client bytes not yet forwarded: an incomplete message
    std::vector<std::string> commit_statements;  // prepared statements whose text is COMMIT
    bool cut_after_sync = false;
    bool started = false;  // the (untyped) startup message has gone by
    char buf[65536];
    bool open = true;
    while (open && !stopping_) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(fds, 2, 100) <= 0) continue;
      if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t n = ::read(server, buf, sizeof buf);
        if (n <= 0 || !write_all(client, buf, static_cast<std::size_t>(n))) break;
      }
      if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::read(client, buf, sizeof buf);
      if (n <= 0) break;
      pending.append(buf, static_cast<std::size_t>(n));
      for (;;) {
        // Untyped: int32 length (itself included), then the rest. Typed: a byte, then that.
        const std::size_t head = started ? 1 : 0;
        if (pending.size() < head + 4) break;
        const std::size_t size = head + big_endian_u32(pending, head);
        if (pending.size() < size) break;
        const char type = started ? pending[0] : '\0';
        if (type == 'P' && c_string(pending, 5, 1) == "COMMIT") {
          commit_statements.push_back(c_string(pending, 5, 0));
        }
        const bool commit =
            (type == 'Q' && c_string(pending, 5, 0) == "COMMIT") ||
            (type == 'B' && std::find(commit_statements.begin(), commit_statements.end(),
                                      c_string(pending, 5, 1)) != commit_statements.end());
        if (commit && armed_.exchange(false)) {
          // Cut before the COMMIT, or once it has reached the server: a simple query at once, a
          // pipelined one (Bind, Execute) once the Sync that makes the server run it is sent.
          if (!forward_ || type == 'Q') {
            if (forward_) write_all(server, pending.data(), size);
            ++cuts_;
            open = false;
            break;
          }
          cut_after_sync = true;
        }
        if (!write_all(server, pending.data(), size)) {
          open = false;
          break;
        }
        if (cut_after_sync && type == 'S') {
          ++cuts_;
          open = false;
          break;
        }
        started = true;
        pending.erase(0, size);
      }
    }
    ::close(client);
    ::close(server);
  }

  const std::string socket_path_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> armed_{false};
  std::atomic<bool> forward_{false};
  std::atomic<int> cuts_{0};
  std::mutex mu_;
  std::vector<std::thread> relays_;  // under mu_
  std::thread acceptor_;
};

class PostgresCommitCut : public test::PostgresTest {
 protected:
  void SetUp() override {
    test::PostgresTest::SetUp();
    if (IsSkipped()) return;
    auto dir = query_value(server_, "host");
    if (!dir || dir->empty() || dir->front() != '/') {
      GTEST_SKIP() << "LATCHKEY_TEST_POSTGRES_URL names no Unix socket directory (host=/...)";
    }
    cutter_ = std::make_unique<CommitCutter>(*dir + "/.s.PGSQL." +
                                             query_value(server_, "port").value_or("5432"));
    // libpq over TCP to the proxy, in plain text (the proxy reads the messages).
    url_ = with_query_value(temp_->url(), "host",
                            "127.0.0.1&port=" + std::to_string(cutter_->port()) +
                                "&sslmode=disable&gssencmode=disable");
  }

  std::unique_ptr<CommitCutter> cutter_;  // outlives the databases each test opens
};

// The COMMIT never reaches the server: nothing was applied, and the writer says it failed.
TEST_F(PostgresCommitCut, AQueuedWriteWhoseCommitIsCutBeforeTheServerSettlesFailed) {
  PostgresDatabase db(url_);
  cutter_->arm(/*forward=*/false);
  WriteOutcome cut = db.save_tokens_later({token("cut-before-commit")})->wait();
  ASSERT_EQ(cutter_->cuts(), 1) << "the write's COMMIT did not go through the proxy";
  EXPECT_EQ(cut.status, WriteOutcome::Status::failed);
  EXPECT_FALSE(db.find_token(SecretRef::by_hash("cut-before-commit")));
  // The writer replaces its connection: the next write lands.
  EXPECT_TRUE(db.save_tokens_later({token("after")})->wait().is_durable());
  EXPECT_TRUE(db.find_token(SecretRef::by_hash("after")));
}

// The server receives the COMMIT and applies it, but its answer never comes back. The write is
// in the database, yet the caller must be told it failed: the writer cannot know the outcome,
// and a token may be handed out only once it knows.
TEST_F(PostgresCommitCut, AQueuedWriteWhoseCommitAnswerIsCutSettlesFailedThoughTheServerHasIt) {
  PostgresDatabase db(url_);
  cutter_->arm(/*forward=*/true);
  WriteOutcome cut = db.save_tokens_later({token("cut-after-commit")})->wait();
  ASSERT_EQ(cutter_->cuts(), 1) << "the write's COMMIT did not go through the proxy";
  EXPECT_EQ(cut.status, WriteOutcome::Status::failed) << "reported durable without an answer";
  EXPECT_FALSE(cut.error.empty());
  // The server runs the COMMIT it received in its own time, after the caller heard of the cut.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool applied = false;
  while (!applied && std::chrono::steady_clock::now() < deadline) {
    applied = db.find_token(SecretRef::by_hash("cut-after-commit")).has_value();
    if (!applied) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(applied) << "the server should have applied the COMMIT it received";
  EXPECT_TRUE(db.save_tokens_later({token("after")})->wait().is_durable());
}

// The same for a write made at once (an access token with its refresh token, one transaction
// on a pooled connection): it throws rather than return as if durable.
TEST_F(PostgresCommitCut, AWriteMadeAtOnceWhoseCommitAnswerIsCutThrows) {
  PostgresDatabase db(url_);
  cutter_->arm(/*forward=*/true);
  EXPECT_THROW(db.save_tokens({token("pair-access"), token("pair-refresh")}), StoreError);
  EXPECT_EQ(cutter_->cuts(), 1);
  db.save_tokens({token("pair-after-access"), token("pair-after-refresh")});
  EXPECT_TRUE(db.find_token(SecretRef::by_hash("pair-after-refresh")));
}

}  // namespace
}  // namespace latchkey::store::postgres
