// The listener half of the server: accept loop, signal handling, worker threads and the
// graceful stop. Per-connection work lives in session.cc.
#include "http/server.h"

#include <spdlog/logger.h>

#include <algorithm>
#include <chrono>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <csignal>
#include <exception>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "http/address.h"
#include "http/session.h"
#include "http/tls_context.h"

namespace latchkey::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Out of descriptors (EMFILE, ENFILE) or memory: the pending connection stays in the backlog and
// the listener stays readable, so retrying at once would spin; wait a little instead.
constexpr std::chrono::milliseconds kAcceptRetry{100};
// How often a stopping server looks whether its requests in flight are all answered.
constexpr std::chrono::milliseconds kDrainPoll{20};

unsigned resolve_workers(unsigned requested) {
  if (requested != 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

std::size_t per_address_cap(const ServerOptions& options) {
  if (options.max_connections_per_address != 0) return options.max_connections_per_address;
  return std::max(options.max_connections / 4, ServerOptions::kMinConnectionsPerAddress);
}

struct Server::Impl {
  // One acceptor and its retry timer; both on the first I/O thread.
  struct Listener {
    Listener(asio::io_context& ioc, bool is_tls) : acceptor(ioc), retry(ioc), tls(is_tls) {}
    tcp::acceptor acceptor;
    asio::steady_timer retry;
    const bool tls;
    bool starved = false;  // the last accept failed for want of descriptors or memory
  };

  Impl(ServerOptions options, Handler handler)
      : workers(resolve_workers(options.workers)),
        state(std::move(options), std::move(handler)),
        iocs(make_io_contexts(workers)),
        handler_pool(state.options.handler_threads > 0
                         ? std::make_unique<asio::thread_pool>(state.options.handler_threads)
                         : nullptr),
        plain(first(), false),
        secure(first(), true),
        drain_timer(first()) {
    state.handler_pool = handler_pool.get();
  }

  static std::vector<std::unique_ptr<asio::io_context>> make_io_contexts(unsigned n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    // Hint 1: each is run by one thread, so its scheduler never wakes another to share work.
    for (unsigned i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }
  // Runs the acceptors, retry timers and signals besides its share of the connections; only
  // the first thread runs it, which serializes them without a strand.
  asio::io_context& first() { return *iocs.front(); }

  void do_accept(Listener& l);
  void tighten_under_pressure();
  void on_accept(Listener& l, boost::system::error_code ec, detail::Socket socket);
  void do_stop();
  void drain();
  void watch_in_flight();
  void run_worker(asio::io_context& ioc);
  void wait_for_signal();
  unsigned short bind(Listener& l, const std::string& host, unsigned short port);
  std::shared_ptr<asio::ssl::context> tls_context() {
    MutexLock lock(tls_mu);
    return tls_ctx;
  }

  const unsigned workers;
  // Declared before the io_context: destroying the io_context destroys pending handlers and
  // with them sessions, which still reach into `state`.
  detail::ServerState state;
  // One io_context per I/O thread, each run by that thread alone. A connection is handed to one
  // of them in turn when accepted and stays there, so its handlers never run concurrently
  // without a strand, and the threads do not contend on one scheduler's queue and lock.
  std::vector<std::unique_ptr<asio::io_context>> iocs;
  // Keeps the other threads' io_contexts running while there is nothing on them yet; released
  // by do_stop(), after which each returns once its connections are done.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> accepting;
  std::size_t next_ioc = 0;  // round robin over iocs; first() only
  // Pressure as the accept loop last saw it, and when idle connections were last cut to the
  // pressure timeout; first() only.
  bool pressured = false;
  std::chrono::steady_clock::time_point last_tightened;
  // Runs handlers (see ServerOptions::handler_threads). Every job it runs holds work on its
  // connection's io_context, so once the I/O threads return from run() the pool is idle.
  std::unique_ptr<asio::thread_pool> handler_pool;
  Listener plain;
  Listener secure;  // open only with ServerOptions::tls
  std::optional<asio::signal_set> signals;
  // The drain's delay, then the watch over requests in flight until drain_timeout; first()
  // only, like the deadline.
  asio::steady_timer drain_timer;
  std::chrono::steady_clock::time_point in_flight_deadline;
  Server* self = nullptr;
  // Swapped by reload_tls(); each TLS session holds the context it started with.
  Mutex tls_mu;
  std::shared_ptr<asio::ssl::context> tls_ctx GUARDED_BY(tls_mu);
};

void Server::Impl::do_accept(Listener& l) {
  if (state.stopping.load(std::memory_order_acquire) || !l.acceptor.is_open()) return;
  asio::io_context& home = *iocs[next_ioc];
  next_ioc = (next_ioc + 1) % iocs.size();
  l.acceptor.async_accept(home, [this, &l](boost::system::error_code ec, detail::Socket socket) {
    on_accept(l, ec, std::move(socket));
  });
}

void Server::Impl::on_accept(Listener& l, boost::system::error_code ec, detail::Socket socket) {
  if (ec == asio::error::operation_aborted || !l.acceptor.is_open()) return;
  if (ec) {
    const bool starved = ec == asio::error::no_descriptors ||  // EMFILE: this process
                         ec == boost::system::errc::too_many_files_open_in_system ||  // ENFILE
                         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
    if (!starved) {
      if (state.options.log) state.options.log->warn("accept failed: {}", ec.message());
      return do_accept(l);
    }
    // One warning per spell, not one per retry: a spell can last as long as connections do.
    if (auto& log = state.options.log) {
      if (!l.starved) {
        log->warn("accept failed: {}; retrying every {} ms", ec.message(), kAcceptRetry.count());
      } else {
        log->debug("accept failed again: {}", ec.message());
      }
    }
    l.starved = true;
    l.retry.expires_after(kAcceptRetry);
    l.retry.async_wait([this, &l](boost::system::error_code wait_ec) {
      if (!wait_ec) do_accept(l);
    });
    return;
  }
  if (l.starved) {
    l.starved = false;
    if (state.options.log) state.options.log->info("accepting connections again");
  }
  // One client may hold only so many connections (ServerOptions::max_connections_per_address),
  // counted by its TCP peer address. One over it is closed here, before a session, a handshake
  // or a 503 costs anything.
  std::string key;
  {
    boost::system::error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec);
    if (!peer_ec) key = address_key(peer.address());
  }
  if (!key.empty() && !state.slots.acquire(key, state.per_address_cap)) {
    if (auto& log = state.options.log) {
      log->debug("{}: over {} connections from one address, closed", key, state.per_address_cap);
    }
    if (state.options.on_address_refused) state.options.on_address_refused(key);
    boost::system::error_code ignored;
    socket.close(ignored);
    return do_accept(l);
  }
  // Only the first thread increments (both listeners are there), so load-then-add cannot
  // overshoot; sessions decrement from their own threads, which only makes room.
  const bool refuse =
      state.connections.load(std::memory_order_relaxed) >= state.options.max_connections;
  if (refuse) {
    // Answered 503 and not served: it holds no slot of its address either.
    if (!key.empty()) state.slots.release(key);
    key.clear();
  } else {
    state.connections.fetch_add(1, std::memory_order_relaxed);
    tighten_under_pressure();
  }
  if (l.tls) {
    std::make_shared<detail::Session<detail::TlsStream>>(state, std::move(socket), tls_context(),
                                                         refuse, std::move(key))
        ->start();
  } else {
    std::make_shared<detail::Session<detail::PlainStream>>(state, std::move(socket), nullptr,
                                                           refuse, std::move(key))
        ->start();
  }
  do_accept(l);
}

void Server::Impl::tighten_under_pressure() {
  if (!state.under_pressure()) {
    pressured = false;
    return;
  }
  // On entering pressure, and again every pressure_idle_timeout_s while it lasts (it may have
  // eased and come back in between without an accept to notice), every connection waiting for
  // a request is cut to the pressure timeout. Connections falling idle meanwhile take it on
  // their own (Session::wait_for_request).
  const auto now = std::chrono::steady_clock::now();
  if (pressured &&
      now - last_tightened < std::chrono::seconds(state.options.pressure_idle_timeout_s)) {
    return;
  }
  pressured = true;
  last_tightened = now;
  for (const auto& session : state.sessions()) session->tighten();
}

void Server::Impl::do_stop() {
  boost::system::error_code ec;
  for (Listener* l : {&plain, &secure}) {
    l->acceptor.close(ec);
    l->retry.cancel();
  }
  if (signals) signals->cancel(ec);
  drain_timer.cancel();
  for (const auto& session : state.sessions()) session->shutdown();
  accepting.clear();
  in_flight_deadline = std::chrono::steady_clock::now() + state.options.drain_timeout;
  watch_in_flight();
}

void Server::Impl::drain() {
  if (state.draining.exchange(true, std::memory_order_acq_rel)) return;
  if (state.options.on_drain) state.options.on_drain();
  if (state.options.drain_delay.count() <= 0) return self->stop();
  if (state.options.log) {
    state.options.log->info("draining: accepting for {} ms more",
                            state.options.drain_delay.count());
  }
  drain_timer.expires_after(state.options.drain_delay);
  drain_timer.async_wait([this](boost::system::error_code ec) {
    if (!ec) self->stop();
  });
}

// Polls rather than waits on one timer for the whole timeout: a pending timer would keep the
// first I/O thread, and so run(), going after the last request was answered.
void Server::Impl::watch_in_flight() {
  const auto left = state.sessions();
  if (left.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now >= in_flight_deadline) {
    if (state.options.log) {
      state.options.log->warn("{} connection(s) still busy after {} ms; closing them", left.size(),
                              state.options.drain_timeout.count());
    }
    for (const auto& session : left) session->abort();
    return;
  }
  drain_timer.expires_after(
      std::min<std::chrono::steady_clock::duration>(kDrainPoll, in_flight_deadline - now));
  drain_timer.async_wait([this](boost::system::error_code ec) {
    if (!ec) watch_in_flight();
  });
}

void Server::Impl::run_worker(asio::io_context& ioc) {
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

unsigned short Server::Impl::bind(Listener& l, const std::string& host, unsigned short port) {
  try {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    tcp::endpoint endpoint;
    if (ec) {
      // A host name (e.g. "localhost"): listen on its first address.
      tcp::resolver resolver(first());
      endpoint = *resolver.resolve(host, std::to_string(port)).begin();
    } else {
      endpoint = tcp::endpoint(address, port);
    }
    l.acceptor.open(endpoint.protocol());
    // Restarting the server must not wait out TIME_WAIT on the port.
    l.acceptor.set_option(asio::socket_base::reuse_address(true));
    l.acceptor.bind(endpoint);
    l.acceptor.listen(asio::socket_base::max_listen_connections);
    return l.acceptor.local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    boost::system::error_code ignored;
    l.acceptor.close(ignored);
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                             e.code().message());
  }
}

void Server::Impl::wait_for_signal() {
  signals->async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      // Certificate and key rotation without a restart; connections in flight keep their
      // context and requests in flight their keys. Caught with or without TLS: SIGHUP's
      // default action would end the process. Rare, and it reads only a few files and a
      // small table, so it runs here rather than hopping threads.
      if (state.options.tls) {
        if (auto error = self->reload_tls()) {
          if (state.options.log) {
            state.options.log->error("TLS reload failed, keeping the old certificate: {}", *error);
          }
        } else if (state.options.log) {
          state.options.log->info("TLS certificate and key reloaded");
        }
      }
      if (state.options.on_hangup) state.options.on_hangup();
      return wait_for_signal();
    }
    if (signal == SIGUSR1) {
      // The log files were renamed (logrotate): write to new ones at the same paths. Here, on
      // the signal set's thread, never in a signal handler: reopening takes the sinks' locks.
      if (state.options.on_reopen_logs) state.options.on_reopen_logs();
      return wait_for_signal();
    }
    // The first SIGTERM/SIGINT drains; one more (an impatient operator) stops at once.
    if (state.draining.load(std::memory_order_acquire)) {
      if (state.options.log) state.options.log->info("signal {}: stopping now", signal);
      return self->stop();
    }
    if (state.options.log) state.options.log->info("signal {}: draining", signal);
    drain();
    wait_for_signal();
  });
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {
  impl_->self = this;
}

Server::~Server() = default;

unsigned short Server::listen() {
  Impl& m = *impl_;
  if (m.plain.acceptor.is_open()) return m.plain.acceptor.local_endpoint().port();
  const auto& opts = m.state.options;
  if (opts.tls) {
    // Before binding anything: a bad certificate or key is a start-up error.
    auto ctx = detail::make_tls_context(*opts.tls);
    MutexLock lock(m.tls_mu);
    m.tls_ctx = std::move(ctx);
  }
  const unsigned short port = m.bind(m.plain, opts.host, opts.port);
  if (opts.tls) {
    try {
      m.bind(m.secure, opts.tls->host, opts.tls->port);
    } catch (...) {
      boost::system::error_code ignored;
      m.plain.acceptor.close(ignored);
      throw;
    }
  }
  // Registered now, not in run(): the caller announces readiness after listen(), and a
  // signal sent on that cue must find the server's handler, not the default action (which
  // for SIGHUP, SIGUSR1 and SIGTERM ends the process). Asio queues it until run() waits.
  if (opts.handle_signals) {
    m.signals.emplace(m.first(), SIGINT, SIGTERM, SIGHUP);
    m.signals->add(SIGUSR1);
  }
  return port;
}

unsigned short Server::tls_port() const {
  const Impl& m = *impl_;
  if (!m.secure.acceptor.is_open()) return 0;
  boost::system::error_code ec;
  auto endpoint = m.secure.acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

std::optional<std::string> Server::reload_tls() {
  Impl& m = *impl_;
  if (!m.state.options.tls) return std::string("no TLS listener is configured");
  try {
    auto ctx = detail::make_tls_context(*m.state.options.tls);
    MutexLock lock(m.tls_mu);
    m.tls_ctx = std::move(ctx);
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

void Server::run() {
  Impl& m = *impl_;
  const unsigned short port = listen();
  if (m.signals) m.wait_for_signal();
  for (std::size_t i = 1; i < m.iocs.size(); ++i) {
    m.accepting.push_back(asio::make_work_guard(*m.iocs[i]));
  }
  asio::post(m.first(), [&m] {
    m.do_accept(m.plain);
    m.do_accept(m.secure);
  });
  if (m.state.options.log) {
    m.state.options.log->info("listening on {}:{} with {} worker(s)", m.state.options.host, port,
                              m.workers);
    if (m.state.options.tls) {
      m.state.options.log->info("TLS listening on {}:{}", m.state.options.tls->host, tls_port());
    }
  }

  std::vector<std::thread> threads;
  threads.reserve(m.workers - 1);
  for (unsigned i = 1; i < m.workers; ++i) {
    threads.emplace_back([&m, i] { m.run_worker(*m.iocs[i]); });
  }
  m.run_worker(m.first());
  for (auto& t : threads) t.join();
  // The io_contexts ran out of work: acceptors closed, signals cancelled, every session gone.
  // The signal set stays until the server is destroyed: a SIGTERM or SIGINT arriving while the
  // caller finishes up after run() (flushing writes, stopping other listeners) is absorbed
  // rather than ending the process with the default action. The caller logs its own stop.
}

void Server::stop() {
  impl_->state.stopping.store(true, std::memory_order_release);
  asio::post(impl_->first(), [m = impl_.get()] { m->do_stop(); });
}

}  // namespace latchkey::http
