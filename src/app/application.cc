#include "app/application.h"

#include <exception>
#include <memory>

#include "app/routes.h"
#include "app/services.h"
#include "core/paths.h"
#include "http/errors.h"
#include "keys/key_ring.h"

namespace latchkey::app {

Application::Application(store::Stores db, Random& random, const Clock& clock,
                         const crypto::KeySealer& sealer, AppOptions options)
    : s_(std::make_unique<Services>(db, random, clock, sealer, std::move(options))) {}

Application::~Application() = default;

Result<std::string> Application::reload_signing_keys() {
  std::shared_ptr<const keys::KeyRing> ring;
  std::string active;
  try {
    ring = std::make_shared<const keys::KeyRing>(s_->key_source.store, s_->key_source.sealer,
                                                 s_->key_source.random, s_->key_source.clock);
    // Both algorithms must keep a signing key, or every token signed with the missing one
    // would fail from now on; signing_key() throws for a missing one.
    for (const char* alg : {"RS256", "ES256"}) {
      active += std::string(active.empty() ? "" : ", ") + alg + " " + ring->signing_key(alg).kid();
    }
  } catch (const std::exception& e) {
    // An unreadable or missing key, or the database itself (store::StoreError).
    return oauth::Error::temporarily_unavailable("signing keys not reloaded").with_debug(e.what());
  }
  s_->keys.replace(std::move(ring));
  return active;
}

std::optional<std::string> Application::reopen_audit_log() {
  return s_->audit ? s_->audit->reopen() : std::nullopt;
}

void Application::hear(const store::Change& change) { s_->relay.hear(change); }

void Application::observe(const http::Request& req, unsigned status,
                          std::chrono::microseconds elapsed) {
  const Route* route = find_route(req.path);
  s_->metrics.observe(route ? route->label : kUnroutedLabel, status, elapsed.count());
}

void Application::start_draining() { s_->draining.store(true, std::memory_order_release); }

EventSink& Application::events() { return s_->events; }

void Application::connection_refused_per_address() { s_->metrics.connection_refused_per_address(); }

bool Application::never_waits_on_disk(const http::Request& req) {
  const Route* route = find_route(req.path);
  return route && route->runs_inline(req);
}

bool Application::metrics_never_wait(const http::Request& req) {
  return req.path != paths::kReadyz;
}

http::Response Application::handle_metrics(const http::Request& req) {
  if (req.method != "GET" && req.method != "HEAD") {
    http::Response r = http::token_error(oauth::Error::method_not_allowed(), false);
    r.set("Allow", "GET, HEAD");
    return r;
  }
  if (req.path == paths::kHealthz) return healthz();
  if (req.path == paths::kReadyz) return readyz(*s_);
  if (req.path != paths::kMetrics) return not_found();
  http::Response r;
  r.body = s_->metrics.render();
  r.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  r.set("Cache-Control", "no-store");
  return r;
}

http::Response Application::handle(const http::Request& req) {
  const Route* route = find_route(req.path);
  const bool get = req.method == "GET" || req.method == "HEAD";
  try {
    if (route && (get || route->methods == Route::Methods::any)) return route->handler(*s_, req);
    // RFC 9110 §15.5.6: a 405 lists the methods the resource has; a path nothing serves is 404
    // whatever the method.
    if (!route) return not_found();
    http::Response r = http::token_error(oauth::Error::method_not_allowed(), false);
    r.set("Allow", "GET, HEAD");
    return r;
  } catch (const store::StoreError& e) {
    // The database failed (disk full, I/O error): say so without detail; nothing was promised.
    return http::token_error(
        oauth::Error::temporarily_unavailable("storage is unavailable, try again"), false);
  }
}

}  // namespace latchkey::app
