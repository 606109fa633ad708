// The HTTP server: Boost.Beast over Asio, asynchronous, keep-alive, one io_context thread per
// worker. Enforces the limits of docs/behaviour.md §6 (request line + headers 16 KiB, body 64 KiB),
// read/idle timeouts and a cap on concurrent connections, then hands each request to the
// router. Stops gracefully on SIGTERM/SIGINT by draining (ServerOptions::drain_delay): says
// so (on_drain), keeps serving for the delay, stops accepting, lets in-flight requests finish
// within drain_timeout, returns from run(). On SIGHUP it reloads (the TLS files, then
// ServerOptions::on_hangup), on SIGUSR1 it has the log files reopened
// (ServerOptions::on_reopen_logs), and goes on serving. Every response carries the request's
// id as X-Request-Id (http/request_id.h). Optionally also listens for TLS (see TlsOptions).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/access_line.h"
#include "http/message.h"

namespace spdlog {
class logger;
}

namespace latchkey::http {

// Called concurrently from several threads: on the handler pool (ServerOptions::
// handler_threads), where it may block on the disk, or else on the I/O threads, where it must
// not. It must be thread-safe. An exception it throws is answered with 500.
using Handler = std::function<Response(const Request&)>;

// The TLS listener (RFC 8705 mutual TLS). The files are read when the server starts listening
// and again on reload_tls() / SIGHUP.
struct TlsOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 0;     // 0 = pick a free port
  std::string cert_file;       // PEM, the server certificate followed by its chain
  std::string key_file;        // PEM private key matching the certificate
  std::string client_ca_file;  // PEM CA certificates for client certificates; optional
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0 = pick a free port
  unsigned workers = 0;        // 0 = one per core
  // Threads that run the handler, so a request waiting on a durable write holds a pool thread,
  // not an I/O thread; as many requests as this can share one group commit. 0 = run handlers
  // on the I/O threads.
  unsigned handler_threads = 64;
  // Requests for which this returns true run on the I/O thread even with a handler pool: the
  // ones whose handler never waits on a durable write (reads served from memory), which would
  // only pay for the two thread hops. Null: every request goes to the pool.
  std::function<bool(const Request&)> run_inline;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
  unsigned read_timeout_s = 30;  // whole request must arrive within this (slowloris)
  unsigned idle_timeout_s = 60;  // keep-alive idle
  std::size_t max_connections = 10'000;
  // Concurrent connections from one client address (http/address.h: an IPv4 address, an IPv6
  // /64), so that one client cannot hold every slot. A connection over it is closed at once,
  // unanswered: it costs no handshake, no 503 and no descriptor beyond the accept. Keyed by the
  // TCP peer address: behind a proxy every client shares the proxy's address and this cap,
  // which then must be raised (trusting a forwarded address is not implemented). 0 = a quarter
  // of max_connections, at least kMinConnectionsPerAddress (never above max_connections).
  std::size_t max_connections_per_address = 0;
  static constexpr std::size_t kMinConnectionsPerAddress = 16;
  // Under pressure, when more than 3/4 of max_connections are in use, connections waiting for
  // a request (idle keep-alive ones, and new ones that have sent nothing yet) may wait at most
  // this long from when they fell idle (or were accepted), instead of idle_timeout_s (or
  // read_timeout_s): a connection going idle gets this shorter timeout, and on entering
  // pressure (and again every this many seconds while it lasts) those already idle are cut
  // to it too, so the longest idle close first and free their slots. 0 = no such shortening.
  unsigned pressure_idle_timeout_s = 5;
  // Called once for each connection closed at once over max_connections_per_address, with the
  // address key it was counted under. Runs on the accepting I/O thread: must be quick,
  // thread-safe and never block. Null: not reported.
  std::function<void(const std::string& address)> on_address_refused;
  // Called once for each request the handler answered, with the status it was answered with
  // and the time from the parsed request to then. An awaiting response (Response::await) is
  // reported once released, with what the release decided (a refusal or a 503 instead of the
  // provisional 200) and the wait included. Not called for requests refused before the handler
  // (malformed, over a limit, over max_connections). Runs on an I/O thread, concurrently: it
  // must be quick, thread-safe and never block. Null: nothing is reported.
  std::function<void(const Request&, unsigned status, std::chrono::microseconds elapsed)>
      on_response;
  // Access lines at info (method, path without the query, status, bytes, µs, address, request
  // id; http/access_line.h) and errors at warn. Null: no logging.
  std::shared_ptr<spdlog::logger> log;
  // How access lines are written: logfmt text, or JSON members for a logger whose formatter is
  // http::JsonLogFormatter (`serve --log-format json`).
  LogFormat log_format = LogFormat::text;
  // Paths whose requests get no access line (health probes, which would drown the rest).
  std::vector<std::string> unlogged_paths;
  // SIGTERM and SIGINT drain the server (docs/operations.md "Draining"): on_drain is called at
  // once, on the thread that handles signals (it must be quick and not throw); the listeners
  // keep accepting for drain_delay, responses meanwhile closing their connections; then the
  // server stops as stop() does. A second signal stops it at once.
  std::function<void()> on_drain;
  std::chrono::milliseconds drain_delay{0};
  // After stop() (or the drain's delay): how long requests in flight have to be answered
  // before their connections are closed anyway, so that run() returns within it.
  std::chrono::milliseconds drain_timeout{10'000};
  // Whether SIGTERM, SIGINT, SIGHUP and SIGUSR1 are this server's. A second server in the process
  // (the metrics listener) says false and is stopped by its owner.
  bool handle_signals = true;
  // A second listener speaking TLS, served by the same workers under the same limits.
  std::optional<TlsOptions> tls;
  // Called on SIGHUP, after the TLS files are re-read (with TLS on): reloads what else the
  // application read at start (its signing keys). Runs on the thread that handles signals,
  // one call at a time; it must not throw. Null: SIGHUP reloads only TLS, or nothing.
  std::function<void()> on_hangup;
  // Called on SIGUSR1 (logrotate's `postrotate`, docs/operations.md "Logs"): reopens the log
  // files at their paths. Runs on the thread that handles signals, one call at a time; it must
  // not throw. SIGUSR1 is caught even when this is null, so that it never ends the process
  // (its default action).
  std::function<void()> on_reopen_logs;
};

// ServerOptions::max_connections_per_address with its default resolved.
std::size_t per_address_cap(const ServerOptions& options);

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; returns the bound port (useful with port 0). Throws on bind failure,
  // and, with TLS, when the certificate, key or CA file cannot be used (the message names it).
  // From here on SIGTERM, SIGINT and SIGHUP are the server's: one that comes before run() is
  // acted on once run() starts, so a caller may announce readiness right after listen().
  unsigned short listen();
  // The TLS listener's bound port; 0 without TLS or before listen().
  unsigned short tls_port() const;
  // Re-reads the TLS certificate, key and client CA files (also on SIGHUP). New connections
  // use the new context; on failure the old one stays and the reason is returned. Thread-safe.
  std::optional<std::string> reload_tls();
  // Accepts and serves on `workers` threads (the caller's among them) until stop() or
  // SIGTERM/SIGINT, then closes idle connections, lets requests in flight be answered and
  // returns; SIGHUP reloads (see ServerOptions::on_hangup) and SIGUSR1 reopens the logs
  // (ServerOptions::on_reopen_logs), and neither stops it. Calls
  // listen() first if it was not called.
  void run();
  // Thread-safe; may be called from any thread, from a handler, or before run().
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace latchkey::http
