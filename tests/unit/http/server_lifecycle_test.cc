// The server over time and under pressure: read and idle timeouts, stopping, signals, the
// connection cap and running out of descriptors.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "unit/http/server_fixture.h"

namespace latchkey::http {
namespace {

using namespace test;  // NOLINT(google-build-using-namespace)

// Slowloris: a request that does not arrive whole within read_timeout_s is dropped.
TEST(Server, DisconnectsSlowClientAfterReadTimeout) {
  ServerOptions options;
  options.read_timeout_s = 1;
  RunningServer server(options, echo);
  Client client(server.port());
  ASSERT_FALSE(client.send("GET / HTTP/1.1\r\nHost: t\r\n"));
  const auto start = Clock::now();
  EXPECT_TRUE(client.closed_within(5s));
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 800ms);
  EXPECT_LT(elapsed, 3s);
}

TEST(Server, DisconnectsSilentClientAfterReadTimeout) {
  ServerOptions options;
  options.read_timeout_s = 1;
  RunningServer server(options, echo);
  Client client(server.port());
  EXPECT_TRUE(client.closed_within(5s));
}

TEST(Server, ClosesIdleKeepAliveConnectionAfterIdleTimeout) {
  ServerOptions options;
  options.idle_timeout_s = 1;
  RunningServer server(options, echo);
  Client client(server.port());
  ASSERT_FALSE(client.send(get("/")));
  ASSERT_TRUE(client.read());
  const auto start = Clock::now();
  EXPECT_TRUE(client.closed_within(5s));
  EXPECT_LT(Clock::now() - start, 3s);
}

TEST(Server, StopReturnsPromptlyWithIdleConnectionOpen) {
  RunningServer server({}, echo);
  Client idle(server.port());
  ASSERT_FALSE(idle.send(get("/")));
  ASSERT_TRUE(idle.read());
  Client silent(server.port());  // connected, never sends anything
  EXPECT_LT(server.stop(), 1s);
  EXPECT_TRUE(idle.closed_within(2s));
  EXPECT_TRUE(silent.closed_within(2s));
}

TEST(Server, StopLetsRequestInFlightFinish) {
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future().share();
  RunningServer server({}, [&](const Request&) {
    entered.set_value();
    released.wait();
    return Response::json(200, "\"done\"");
  });
  Client client(server.port());
  ASSERT_FALSE(client.send(get("/slow")));
  entered.get_future().wait();
  std::thread stopper([&] { server.stop(); });
  std::this_thread::sleep_for(100ms);  // let stop() reach the session before the answer
  release.set_value();
  auto res = client.read();
  stopper.join();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body(), "\"done\"");
  EXPECT_FALSE(res->keep_alive());
}

TEST(Server, StopFromHandlerReturnsRun) {
  Server* self = nullptr;
  std::unique_ptr<RunningServer> server;
  server = std::make_unique<RunningServer>(ServerOptions{}, [&](const Request&) {
    self->stop();
    return Response::json(200, "{}");
  });
  self = &server->server();
  Client client(server->port());
  ASSERT_FALSE(client.send(get("/shutdown")));
  auto res = client.read();
  ASSERT_TRUE(res);
  EXPECT_FALSE(res->keep_alive());
  EXPECT_LT(server->stop(), 2s);
}

TEST(Server, StopBeforeRunReturnsAtOnce) {
  ServerOptions options;
  options.port = 0;
  options.workers = 1;
  Server server(options, echo);
  server.listen();
  server.stop();
  const auto start = Clock::now();
  server.run();
  EXPECT_LT(Clock::now() - start, 1s);
}

// SIGHUP reloads and never ends the server, with or without TLS; and the handler is in place
// from listen() on, because `serve` announces "listening on" between listen() and run(): a
// signal sent on that cue would otherwise meet the default action and end the process (this
// test's process). Signals that come before run() are acted on once it runs.
TEST(Server, SighupFromListenOnReloadsAndDoesNotStop) {
  std::atomic<int> hangups{0};
  ServerOptions options;
  options.port = 0;
  options.workers = 1;
  options.on_hangup = [&hangups] { hangups.fetch_add(1); };
  Server server(options, echo);
  server.listen();
  ASSERT_EQ(::raise(SIGHUP), 0);
  std::thread runner([&server] { server.run(); });
  const auto deadline = Clock::now() + 5s;
  while (hangups.load() == 0 && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(hangups.load(), 1);
  ASSERT_EQ(::raise(SIGHUP), 0);
  while (hangups.load() < 2 && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(hangups.load(), 2) << "the second SIGHUP was not handled";
  server.stop();
  runner.join();
}

// SIGUSR1 (logrotate's postrotate, docs/operations.md "Logs") has the logs reopened and never
// ends the server, whose default action it would be; caught from listen() on, like SIGHUP.
TEST(Server, Sigusr1FromListenOnReopensLogsAndDoesNotStop) {
  std::atomic<int> reopens{0};
  ServerOptions options;
  options.port = 0;
  options.workers = 1;
  options.on_reopen_logs = [&reopens] { reopens.fetch_add(1); };
  Server server(options, echo);
  server.listen();
  ASSERT_EQ(::raise(SIGUSR1), 0);
  std::thread runner([&server] { server.run(); });
  const auto deadline = Clock::now() + 5s;
  while (reopens.load() == 0 && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(reopens.load(), 1);
  ASSERT_EQ(::raise(SIGUSR1), 0);
  while (reopens.load() < 2 && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(reopens.load(), 2) << "the second SIGUSR1 was not handled";
  server.stop();
  runner.join();
}

// A SIGTERM that comes after run() has returned, while the caller is still finishing (`serve`
// flushes writes and stops its other listeners then; an impatient operator or a supervisor
// may signal again), is absorbed until the server is destroyed: its default action would end
// this test's process.
TEST(Server, ASigtermAfterRunReturnedDoesNotEndTheProcess) {
  ServerOptions options;
  options.port = 0;
  options.workers = 1;
  Server server(options, echo);
  server.listen();
  std::thread runner([&server] { server.run(); });
  ASSERT_EQ(::raise(SIGTERM), 0);  // drains and stops
  runner.join();
  // raise() runs the action before it returns: the default one would end the process here.
  ASSERT_EQ(::raise(SIGTERM), 0);
}

TEST(Server, Answers503OverMaxConnections) {
  ServerOptions options;
  options.max_connections = 2;
  RunningServer server(options, echo);
  Client a(server.port());
  Client b(server.port());
  // Both are served (so both are surely accepted) and stay open.
  ASSERT_FALSE(a.send(get("/")));
  ASSERT_TRUE(a.read());
  ASSERT_FALSE(b.send(get("/")));
  ASSERT_TRUE(b.read());

  Client c(server.port());
  ASSERT_FALSE(c.send(get("/")));
  auto res = c.read();
  ASSERT_TRUE(res) << c.last_error().message();
  expect_oauth_error(*res, 503, "temporarily_unavailable");
  EXPECT_TRUE(c.closed_within(5s));

  // Capacity returns when a connection goes away.
  ASSERT_FALSE(a.send(get("/", "Connection: close\r\n")));
  ASSERT_TRUE(a.read());
  EXPECT_TRUE(a.closed_within(5s));
  std::optional<bhttp::response<bhttp::string_body>> later;
  for (int i = 0; i < 50 && !(later && later->result_int() == 200); ++i) {
    Client d(server.port());
    ASSERT_FALSE(d.send(get("/")));
    later = d.read();
    if (!later || later->result_int() != 200) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(later);
  EXPECT_EQ(later->result_int(), 200u);
}

// One client address may hold only max_connections_per_address connections: one more is
// closed at once, unanswered, and reported, while another address is still served; the slot
// comes back when one of its connections closes.
TEST(Server, CapsConnectionsPerAddressWhileAnotherAddressIsServed) {
  std::mutex mu;
  std::vector<std::string> refused;
  ServerOptions options;
  options.max_connections = 100;
  options.max_connections_per_address = 2;
  options.on_address_refused = [&](const std::string& address) {
    std::lock_guard lock(mu);
    refused.push_back(address);
  };
  RunningServer server(options, echo);
  Client a1(server.port(), "127.0.0.2");
  Client a2(server.port(), "127.0.0.2");
  for (Client* c : {&a1, &a2}) {
    ASSERT_FALSE(c->send(get("/")));
    auto res = c->read();
    ASSERT_TRUE(res) << c->last_error().message();
    EXPECT_EQ((*res)["X-Remote"], "127.0.0.2");
  }

  Client a3(server.port(), "127.0.0.2");
  a3.send(get("/"));  // may fail: the server may have closed it already
  EXPECT_EQ(a3.read_all(5s), "") << "a connection over the per-address cap was answered";
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(refused, std::vector<std::string>{"127.0.0.2"});
  }

  // Another address is served meanwhile, and the held connections still are.
  Client b(server.port(), "127.0.0.3");
  ASSERT_FALSE(b.send(get("/")));
  auto other = b.read();
  ASSERT_TRUE(other) << b.last_error().message();
  EXPECT_EQ(other->result_int(), 200u);
  EXPECT_EQ((*other)["X-Remote"], "127.0.0.3");
  ASSERT_FALSE(a2.send(get("/")));
  ASSERT_TRUE(a2.read());

  // A slot comes back when one of the address's connections closes (the server notices the
  // close on its own time, so the next connection may be refused once or twice first).
  ASSERT_FALSE(a1.send(get("/", "Connection: close\r\n")));
  ASSERT_TRUE(a1.read());
  EXPECT_TRUE(a1.closed_within(5s));
  std::optional<bhttp::response<bhttp::string_body>> later;
  for (int i = 0; i < 50 && !later; ++i) {
    Client again(server.port(), "127.0.0.2");
    if (!again.send(get("/"))) later = again.read();
    if (!later) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(later);
  EXPECT_EQ(later->result_int(), 200u);
}

// The default per-address cap is a quarter of max_connections, never below 16.
TEST(Server, DefaultPerAddressCapIsAQuarterOfTheCapAtLeast16) {
  ServerOptions options;
  options.max_connections = 10'000;
  EXPECT_EQ(per_address_cap(options), 2'500u);
  options.max_connections = 40;
  EXPECT_EQ(per_address_cap(options), 16u);
  options.max_connections_per_address = 3;
  EXPECT_EQ(per_address_cap(options), 3u);
}

// Under pressure (more than 3/4 of max_connections in use) idle keep-alive connections wait at
// most pressure_idle_timeout_s from when they fell idle instead of idle_timeout_s: one idle
// longer than that already is closed at once, the more recently idle ones when their time is
// up, so the longest idle go first.
TEST(Server, ClosesIdleConnectionsSoonerUnderPressureLongestIdleFirst) {
  ServerOptions options;
  options.max_connections = 4;  // pressure from 4 connections on
  options.idle_timeout_s = 60;
  options.pressure_idle_timeout_s = 1;
  RunningServer server(options, echo);
  auto serve = [](Client& c) {
    ASSERT_FALSE(c.send(get("/")));
    ASSERT_TRUE(c.read()) << c.last_error().message();
  };
  Client a(server.port());
  serve(a);
  std::this_thread::sleep_for(1200ms);  // `a` idle for longer than the pressure timeout
  Client b(server.port());
  serve(b);
  Client c(server.port());
  serve(c);
  // Three of four in use is no pressure: `a` keeps its 60 s idle timeout.
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(a.closed_now());

  Client d(server.port());
  serve(d);
  const auto pressed = Clock::now();
  EXPECT_TRUE(a.closed_within(5s));
  EXPECT_LT(Clock::now() - pressed, 700ms) << "the longest idle was not closed at once";
  EXPECT_TRUE(b.closed_within(5s));
  const auto b_closed = Clock::now() - pressed;
  EXPECT_GE(b_closed, 200ms) << "closed before its pressure timeout from falling idle";
  EXPECT_LT(b_closed, 3s);
  EXPECT_TRUE(c.closed_within(5s));
}

// Counts log lines containing `needle`; safe to read while the server writes.
class CountingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit CountingSink(std::string needle) : needle_(std::move(needle)) {}
  int count() const { return count_.load(); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (std::string_view(msg.payload.data(), msg.payload.size()).find(needle_) !=
        std::string_view::npos) {
      ++count_;
    }
  }
  void flush_() override {}

 private:
  const std::string needle_;
  std::atomic<int> count_{0};
};

// Out of descriptors, accept() fails with EMFILE while the connection waits in the backlog and
// the listener stays readable: the server must back off rather than spin, and serve the
// connection once descriptors are free again.
TEST(Server, BacksOffWhileOutOfDescriptorsAndServesOnceTheyAreBack) {
#ifdef LATCHKEY_SANITIZED
  // UBSan's vptr check probes memory through a pipe; with every descriptor taken that probe
  // fails and it reports the server's own objects as invalid. The Release suite runs this.
  GTEST_SKIP() << "needs free descriptors under the sanitizers";
#endif
  auto failures = std::make_shared<CountingSink>("accept failed");
  auto log = std::make_shared<spdlog::logger>("test", failures);
  log->set_level(spdlog::level::debug);  // every failed accept is a line
  ServerOptions options;
  options.log = log;
  options.workers = 1;
  RunningServer server(options, echo);
  {
    // run() has set up (its signal set opens a pipe) once a request has been served.
    Client warm(server.port());
    ASSERT_FALSE(warm.send(get("/")));
    ASSERT_TRUE(warm.read());
  }

  // The client's socket is made first; connecting needs no further descriptor.
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  timeval five{5, 0};
  ASSERT_EQ(setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five), 0);
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = std::min<rlim_t>(saved.rlim_cur, 256);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> fillers;
  for (int fd; (fd = ::open("/dev/null", O_RDONLY)) >= 0;) fillers.push_back(fd);
  auto release = [&] {
    for (int fd : fillers) ::close(fd);
    fillers.clear();
    setrlimit(RLIMIT_NOFILE, &saved);
  };

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = ::connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  const std::string request = get("/");
  const bool sent = connected && ::send(sock, request.data(), request.size(), 0) ==
                                     static_cast<ssize_t>(request.size());
  std::this_thread::sleep_for(1s);
  const int failed = failures->count();
  release();
  ASSERT_TRUE(sent);
  EXPECT_GE(failed, 1) << "accept never ran out of descriptors";
  // A 100 ms back-off fails about ten times a second; a loop retrying at once, thousands.
  EXPECT_LE(failed, 30);

  std::string answer;
  char buf[4096];
  for (ssize_t n; answer.find("\r\n\r\n") == std::string::npos &&
                  (n = ::recv(sock, buf, sizeof buf, 0)) > 0;) {
    answer.append(buf, static_cast<std::size_t>(n));
  }
  ::close(sock);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
}

TEST(Server, ListenThrowsWhenPortIsTaken) {
  RunningServer first({}, echo);
  ServerOptions options;
  options.port = first.port();
  Server second(options, echo);
  EXPECT_THROW(second.listen(), std::runtime_error);
}

// Each I/O thread runs its own event loop: a connection is handed to one thread when accepted and
// all its requests are served there, and consecutive connections go to different threads, so
// the load spreads over the cores without connections contending for one queue.
TEST(Server, ConnectionsStayOnOneIoThreadAndAreSpreadOverThem) {
  std::mutex mu;
  std::vector<std::pair<std::string, std::thread::id>> seen;
  Handler handler = [&](const Request& req) {
    std::lock_guard lock(mu);
    seen.emplace_back(req.path, std::this_thread::get_id());
    return Response::json(200, "{}");
  };
  ServerOptions options;
  options.workers = 2;
  options.run_inline = [](const Request&) { return true; };
  RunningServer server(options, handler);
  Client first(server.port());
  Client second(server.port());
  for (int i = 0; i < 20; ++i) {
    for (auto* client : {&first, &second}) {
      ASSERT_FALSE(client->send(get(client == &first ? "/first" : "/second")));
      ASSERT_TRUE(client->read());
    }
  }
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 40u);
  std::set<std::thread::id> first_threads;
  std::set<std::thread::id> second_threads;
  for (const auto& [path, id] : seen) {
    (path == "/first" ? first_threads : second_threads).insert(id);
  }
  ASSERT_EQ(first_threads.size(), 1u) << "one connection's requests ran on several threads";
  ASSERT_EQ(second_threads.size(), 1u) << "one connection's requests ran on several threads";
  EXPECT_NE(*first_threads.begin(), *second_threads.begin()) << "both connections on one thread";
}

}  // namespace
}  // namespace latchkey::http
