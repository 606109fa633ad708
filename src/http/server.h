// The HTTP server: Boost.Beast over Asio, asynchronous, keep-alive, one io_context thread per
// worker. Enforces the limits of CONTRACT.md §6 (request line + headers 16 KiB, body 64 KiB),
// read/idle timeouts and a cap on concurrent connections, then hands each request to the
// router. Stops gracefully on SIGTERM/SIGINT: stops accepting, lets in-flight requests
// finish, returns from run().
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "http/message.h"

namespace spdlog {
class logger;
}

namespace latchkey::http {

// Called synchronously on an I/O thread, concurrently from several threads: it must be
// thread-safe and must not block on slow I/O. An exception it throws is answered with 500.
using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0 = pick a free port
  unsigned workers = 0;        // 0 = one per core
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
  unsigned read_timeout_s = 30;  // whole request must arrive within this (slowloris)
  unsigned idle_timeout_s = 60;  // keep-alive idle
  std::size_t max_connections = 10'000;
  // Access lines at info (method, path without the query, status, bytes, µs, address) and
  // errors at warn. Null: no logging.
  std::shared_ptr<spdlog::logger> log;
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; returns the bound port (useful with port 0). Throws on bind failure.
  unsigned short listen();
  // Accepts and serves on `workers` threads (the caller's among them) until stop() or
  // SIGTERM/SIGINT, then closes idle connections, lets requests in flight be answered and
  // returns. Calls listen() first if it was not called.
  void run();
  // Thread-safe; may be called from any thread, from a handler, or before run().
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace latchkey::http
