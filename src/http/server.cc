// The listener half of the server: accept loop, signal handling, worker threads and the
// graceful stop. Per-connection work lives in session.cc.
#include "http/server.h"

#include <spdlog/logger.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <csignal>
#include <exception>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "http/session.h"

namespace latchkey::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Out of descriptors or memory: the pending connection stays in the backlog, so wait a little
// instead of spinning on accept.
constexpr std::chrono::milliseconds kAcceptRetry{100};

unsigned resolve_workers(unsigned requested) {
  if (requested != 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions options, Handler handler)
      : workers(resolve_workers(options.workers)),
        state(std::move(options), std::move(handler)),
        ioc(static_cast<int>(workers)),
        strand(asio::make_strand(ioc)),
        acceptor(strand),
        retry(strand) {}

  void do_accept();
  void on_accept(boost::system::error_code ec, tcp::socket socket);
  void do_stop();
  void run_worker();

  const unsigned workers;
  // Declared before the io_context: destroying the io_context destroys pending handlers and
  // with them sessions, which still reach into `state`.
  detail::ServerState state;
  asio::io_context ioc;
  // Serializes the acceptor, the retry timer and the signal set (stop() may come from any
  // thread; it only posts here).
  asio::strand<asio::io_context::executor_type> strand;
  tcp::acceptor acceptor;
  asio::steady_timer retry;
  std::optional<asio::signal_set> signals;
};

void Server::Impl::do_accept() {
  if (state.stopping.load(std::memory_order_acquire) || !acceptor.is_open()) return;
  // Each connection gets its own strand so its handlers never run concurrently.
  acceptor.async_accept(asio::make_strand(ioc),
                        [this](boost::system::error_code ec, tcp::socket socket) {
                          on_accept(ec, std::move(socket));
                        });
}

void Server::Impl::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    if (state.options.log) state.options.log->warn("accept failed: {}", ec.message());
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
        ec == asio::error::no_memory) {
      retry.expires_after(kAcceptRetry);
      retry.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec) do_accept();
      });
      return;
    }
    return do_accept();
  }
  // Only this strand increments, so load-then-add cannot overshoot; sessions decrement from
  // their own threads, which only makes room.
  const bool refuse =
      state.connections.load(std::memory_order_relaxed) >= state.options.max_connections;
  if (!refuse) state.connections.fetch_add(1, std::memory_order_relaxed);
  std::make_shared<detail::Session>(state, std::move(socket), refuse)->start();
  do_accept();
}

void Server::Impl::do_stop() {
  boost::system::error_code ec;
  acceptor.close(ec);
  retry.cancel();
  if (signals) signals->cancel(ec);
  for (const auto& session : state.sessions()) session->shutdown();
}

void Server::Impl::run_worker() {
  // Asio's pattern for a handler that throws: report it and keep the thread serving rather
  // than let the exception end the process.
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      if (state.options.log) state.options.log->warn("I/O thread caught: {}", e.what());
    } catch (...) {
      if (state.options.log) state.options.log->warn("I/O thread caught an unknown exception");
    }
  }
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() = default;

unsigned short Server::listen() {
  Impl& m = *impl_;
  if (m.acceptor.is_open()) return m.acceptor.local_endpoint().port();
  const auto& opts = m.state.options;
  try {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(opts.host, ec);
    tcp::endpoint endpoint;
    if (ec) {
      // A host name (e.g. "localhost"): listen on its first address.
      tcp::resolver resolver(m.ioc);
      endpoint = *resolver.resolve(opts.host, std::to_string(opts.port)).begin();
    } else {
      endpoint = tcp::endpoint(address, opts.port);
    }
    m.acceptor.open(endpoint.protocol());
    // Restarting the server must not wait out TIME_WAIT on the port.
    m.acceptor.set_option(asio::socket_base::reuse_address(true));
    m.acceptor.bind(endpoint);
    m.acceptor.listen(asio::socket_base::max_listen_connections);
    return m.acceptor.local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    boost::system::error_code ignored;
    m.acceptor.close(ignored);
    throw std::runtime_error("cannot listen on " + opts.host + ":" + std::to_string(opts.port) +
                             ": " + e.code().message());
  }
}

void Server::run() {
  Impl& m = *impl_;
  const unsigned short port = listen();
  m.signals.emplace(m.strand, SIGINT, SIGTERM);
  m.signals->async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    if (impl_->state.options.log) impl_->state.options.log->info("signal {}: stopping", signal);
    stop();
  });
  asio::post(m.strand, [&m] { m.do_accept(); });
  if (m.state.options.log) {
    m.state.options.log->info("listening on {}:{} with {} worker(s)", m.state.options.host, port,
                              m.workers);
  }

  std::vector<std::thread> threads;
  threads.reserve(m.workers - 1);
  for (unsigned i = 1; i < m.workers; ++i) threads.emplace_back([&m] { m.run_worker(); });
  m.run_worker();
  for (auto& t : threads) t.join();
  // The io_context ran out of work: acceptor closed, signals cancelled, every session gone.
  m.signals.reset();
  if (m.state.options.log) m.state.options.log->info("stopped");
}

void Server::stop() {
  impl_->state.stopping.store(true, std::memory_order_release);
  asio::post(impl_->strand, [m = impl_.get()] { m->do_stop(); });
}

}  // namespace latchkey::http
