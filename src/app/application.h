// The composition root: the only place that names concrete classes and wires them. Owns
// every service for the life of the server; handle() is the router and is thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/events.h"
#include "core/random.h"
#include "core/result.h"
#include "crypto/key_sealer.h"
#include "http/client_address.h"
#include "app/routes.h"
#include "http/message.h"
#include "store/stores.h"

namespace latchkey::app {

struct Services;  // app/services.h

struct AppOptions {
  std::string issuer;  // e.g. http://127.0.0.1:8080, no trailing slash
  // Argon2id cost for password checks (tests lower it).
  uint32_t argon2_memory_kib = 19 * 1024;
  uint32_t argon2_iterations = 2;
  // JSON-lines audit log of authentication events: a file path, "-" for stdout, "" for none.
  std::string audit_log;
  // Base URL (https://HOST:PORT) of the TLS listener for RFC 8705 mutual TLS; empty when off.
  std::string mtls_base_url;
  // Reverse proxies trusted to name the client (serve --trusted-proxy): the login throttle
  // counts the address they report (http/client_address.h).
  std::vector<http::Cidr> trusted_proxies;
  // Further `aud` values the JWT bearer grant accepts besides the issuer (serve
  // --audience-alias; docs/behaviour.md §5.6).
  std::vector<std::string> audience_aliases;
  // How long after its first rotation a refresh token may be used again (serve
  // --refresh-reuse-grace; docs/behaviour.md §5.4); 0 = never.
  int64_t refresh_reuse_grace_ms = 0;
};

class Application {
 public:
  // `sealer` opens the stored signing keys (keys::KeyRing); it must outlive the application.
  // Throws std::runtime_error when they do not open (the server must not start then).
  Application(store::Stores db, Random& random, const Clock& clock, const crypto::KeySealer& sealer,
              AppOptions options);
  ~Application();
  Application(const Application&) = delete;
  Application& operator=(const Application&) = delete;

  // The public listener: routes by the table of app/routes.h. /metrics is not among its routes
  // (404): what the server counts is for the operator's scraper alone, served by
  // handle_metrics() on its own listener.
  http::Response handle(const http::Request& request);
  // The metrics listener (`serve --metrics-listen`): /metrics (Prometheus text), /healthz and
  // /readyz, 404 for everything else.
  http::Response handle_metrics(const http::Request& request);
  // Reads the signing keys from the store again (after `latchkey keys rotate`; the server
  // calls this on SIGHUP). New tokens are signed with, and the JWKS publishes, the new ring;
  // requests already signing keep the ring they hold. On failure the old ring stays and the
  // error's debug text says why. On success, the active kids ("RS256 <kid>, ES256 <kid>").
  // Thread-safe.
  Result<std::string> reload_signing_keys();
  // Opens the audit log file again at its path (SIGUSR1, after logrotate renamed it; see
  // http::ServerOptions::on_reopen_logs). Nothing to do without one or on stdout. On failure
  // the old file stays in use and the reason is returned. Thread-safe.
  std::optional<std::string> reopen_audit_log();
  // An announcement from another process that is not about a cached record (store/change.h):
  // another node's failed login or client secret, counted in the throttles here
  // (oauth/throttle_relay.h). Thread-safe.
  void hear(const store::Change& change);
  // Counts a request in the metrics once its answer is final (http::ServerOptions::
  // on_response): a token response that awaited its write is counted with what the write
  // decided, and its latency includes the wait. Thread-safe, lock-free.
  void observe(const http::Request& request, unsigned status, std::chrono::microseconds elapsed);
  // The server is stopping (SIGTERM, docs/operations.md "Draining"): from now on /readyz
  // answers 503 "draining" on both listeners, so load balancers send no new requests; the
  // rest is served as before. Thread-safe, lock-free; there is no way back.
  void start_draining();
  // Where events go (the audit log, the metrics): for the admin API's changes
  // (app/admin_api.h), recorded in the same audit log. Thread-safe.
  EventSink& events();
  // Counts a connection closed for being over the per-address cap (http::ServerOptions::
  // on_address_refused). Thread-safe, lock-free.
  void connection_refused_per_address();
  // True for requests whose handling never blocks on a durable write: token validation,
  // introspection, identity and discovery (they read, mostly from the cache, and write
  // nothing) and the grants whose only write is the token write the response awaits. The
  // server runs these on its I/O threads (http::ServerOptions::run_inline). Each route says
  // which of its requests these are (Route::runs_inline); a request without a route is not.
  static bool never_waits_on_disk(const http::Request& request);
  // The same for the metrics listener: every request but /readyz, which may wait for a ping of
  // the database (app/readiness.h).
  static bool metrics_never_wait(const http::Request& request);

 private:
  std::unique_ptr<Services> s_;
};

}  // namespace latchkey::app
