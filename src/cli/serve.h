// `latchkey serve`: opens the database, wires the application and runs the HTTP server
// until SIGTERM/SIGINT (or stdin EOF with --stop-on-stdin-eof, for test harnesses).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "app/key_encryption.h"
#include "store/stores.h"

namespace latchkey::cli {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  std::string issuer;  // default http://HOST:PORT of the bound address
  unsigned workers = 0;
  unsigned handler_threads = 64;
  // How long apps, users and tokens read from the database are served from memory; changes
  // made by another process (the CLI) are seen within this. 0 = no cache.
  int64_t cache_ms = 1000;
  // How long, at most, while the server hears the database's change announcements (PostgreSQL):
  // another process's changes then arrive with them, and this bounds only changes made behind
  // latchkey's back (store/caching_database.h).
  int64_t cache_max_ms = 60'000;
  // Concurrent connections served; beyond it, 503. Lowered at start-up to what the open-file
  // limit allows (http/fd_budget.h).
  std::size_t max_connections = 10'000;
  // Concurrent connections from one client address (IPv4 address, IPv6 /64); beyond it a new
  // connection is closed at once. 0 = a quarter of the connection cap, at least 16.
  std::size_t max_connections_per_address = 0;
  bool stop_on_stdin_eof = false;
  bool quiet = false;     // no access log
  std::string audit_log;  // JSON-lines audit log path, "-" for stdout
  // TLS listener (RFC 8705 mutual TLS); off when tls_listen is empty.
  std::string tls_listen;     // HOST:PORT
  std::string tls_cert;       // PEM chain
  std::string tls_key;        // PEM key
  std::string tls_client_ca;  // PEM CAs for client certificates; optional
  // Base URL clients reach the TLS listener at (mtls_endpoint_aliases); default: see
  // config::mtls_base_url.
  std::string tls_issuer;
  // Reverse proxies (address or CIDR block each) whose Forwarded / X-Forwarded-For name the
  // client for the login throttle; from any other peer those headers are ignored.
  std::vector<std::string> trusted_proxies;
  // Further audiences (absolute http(s) URLs) the JWT bearer grant accepts besides the issuer.
  std::vector<std::string> audience_aliases;
  // The sqlite database file, for the start-up check of its mode; empty for other databases.
  std::string db_file;
  // HOST:PORT of a plain-HTTP listener serving only /metrics, /healthz and /readyz; empty: /metrics
  // is served nowhere (the public listener never serves it).
  std::string metrics_listen;
  // Seconds between passes of the purge of expired codes, tokens and sessions
  // (store/purger.h); 0 = no purge.
  int64_t purge_interval_s = 60;
};

// `kek` opens the signing keys: the server refuses to start when they do not open.
int serve(store::Database& db, const ServeOptions& options, app::KekSource& kek);

// "HOST:PORT" → host, port. False if malformed.
bool split_listen(const std::string& listen, std::string& host, unsigned short& port);

}  // namespace latchkey::cli
