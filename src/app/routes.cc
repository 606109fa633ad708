#include "app/routes.h"

#include <algorithm>
#include <string>

#include "app/services.h"
#include "core/error.h"
#include "core/paths.h"
#include "http/errors.h"
#include "http/params.h"

namespace latchkey::app {
namespace {

// Where a request may run (Route::runs_inline).

bool on_io_thread(const http::Request&) { return true; }

bool on_pool(const http::Request&) { return false; }

// Every grant reads (mostly from the cache) and ends with one queued write, which the response
// awaits without holding a thread: codes and rotating refresh tokens are used up by that same
// write (store::TokenStore::redeem_later). Not a request carrying an assertion (a client
// assertion, a JWT or SAML bearer grant): its identifier is recorded as used in the database
// first, a durable write of its own (store::ReplayStore).
bool unless_assertion(const http::Request& request) {
  return request.body.find("assertion") == std::string::npos;
}

// grant_type=password: its Argon2id check takes tens of milliseconds of CPU, as the login
// form's does. Only a body that says "password" or percent-encodes something (which could
// spell it) is parsed to find out.
bool is_password_grant(const http::Request& request) {
  const std::string& body = request.body;
  if (body.find("password") == std::string::npos && body.find('%') == std::string::npos) {
    return false;
  }
  auto form = http::parse_form(body);
  return form && form->value("grant_type") == "password";  // a malformed form is refused at once
}

// As unless_assertion, and never the password grant. The code exchange too with remote reads:
// its code, which no cache holds (it is used once, and often at another node than the one that
// issued it), is read by the store's reader thread, and the grant answers from there
// (oauth::TokenGrantHandler::reads_later), so no round trip holds up an I/O thread.
bool token_placement(const http::Request& request) {
  return unless_assertion(request) && !is_password_grant(request);
}

// Showing the login or consent page, or redirecting with a code (whose write the redirect
// awaits). Not the user-agent flow, whose tokens are written at once, nor the forms posted
// back (a password check takes tens of milliseconds of CPU).
bool authorize_placement(const http::Request& request) {
  if (request.method != "GET") return false;
  auto query = http::parse_form(request.query);
  if (!query) return true;  // refused at once
  std::string_view types = query->value("response_type");
  for (std::size_t i = 0; i <= types.size();) {
    std::size_t end = std::min(types.find(' ', i), types.size());
    if (types.substr(i, end - i) == "token") return false;
    i = end + 1;
  }
  return true;
}

// The handlers.

http::Response authorize(Services& s, const http::Request& r) { return s.authorize.handle(r); }
http::Response token(Services& s, const http::Request& r) { return s.token.handle(r); }
http::Response revoke(Services& s, const http::Request& r) { return s.revoke.handle(r); }
http::Response introspect(Services& s, const http::Request& r) { return s.introspect.handle(r); }
http::Response userinfo(Services& s, const http::Request& r) { return s.users.userinfo(r); }
http::Response identity(Services& s, const http::Request& r) { return s.users.identity(r); }
http::Response discovery(Services& s, const http::Request&) { return s.discovery->configuration(); }
http::Response jwks(Services& s, const http::Request&) { return s.discovery->jwks(); }
http::Response data_versions(Services& s, const http::Request& r) { return s.data.versions(r); }
http::Response data_version(Services& s, const http::Request& r) { return s.data.resource(r); }
http::Response single_access(Services& s, const http::Request& r) {
  return s.front_door.single_access(r);
}
http::Response front_door(Services& s, const http::Request& r) { return s.front_door.enter(r); }
http::Response landing(Services& s, const http::Request&) {
  web::LandingView v{s.options.issuer, s.demo.available(), std::string(paths::kDemoStart),
                     std::string(kDemoUsername), std::string(kDemoPassword)};
  return http::Response::html(200, s.pages.landing(v));
}
http::Response stylesheet(Services& s, const http::Request&) {
  http::Response r;
  r.body = std::string(s.pages.stylesheet());
  r.set("Content-Type", "text/css;charset=utf-8");
  r.set("Cache-Control", "public, max-age=3600");
  return r;
}
http::Response demo_start(Services& s, const http::Request& r) { return s.demo.start(r); }
http::Response demo_callback(Services& s, const http::Request& r) { return s.demo.callback(r); }
http::Response health(Services&, const http::Request&) { return healthz(); }
http::Response ready(Services& s, const http::Request&) { return readyz(s); }
// A path under a family of routes that names none of them: 404, counted with the family.
http::Response nothing_here(Services&, const http::Request&) { return not_found(); }

constexpr auto kExact = Route::Match::exact;
constexpr auto kPrefix = Route::Match::prefix;
constexpr auto kAny = Route::Methods::any;
constexpr auto kGet = Route::Methods::get_head;

// The metrics list the labels in the order they first appear here.
constexpr Route kRoutes[] = {
    // path, match, methods, handler, runs inline, metrics label
    {paths::kAuthorize, kExact, kAny, authorize, authorize_placement, "authorize"},
    {paths::kToken, kExact, kAny, token, token_placement, "token"},
    {paths::kRevoke, kExact, kAny, revoke, on_pool, "revoke"},
    {paths::kIntrospect, kExact, kAny, introspect, unless_assertion, "introspect"},
    {paths::kUserinfo, kExact, kAny, userinfo, on_io_thread, "userinfo"},
    {paths::kIdentityPrefix, kPrefix, kAny, identity, on_io_thread, "identity"},
    {paths::kSingleAccess, kExact, kGet, single_access, on_io_thread, "frontdoor"},
    // Records the one-time URL's use and the session in the database.
    {paths::kFrontDoor, kExact, kGet, front_door, on_pool, "frontdoor"},
    {paths::kOpenidConfiguration, kExact, kGet, discovery, on_io_thread, "discovery"},
    {paths::kOauthAuthorizationServer, kExact, kGet, discovery, on_io_thread, "discovery"},
    {paths::kWellKnownPrefix, kPrefix, kGet, nothing_here, on_io_thread, "discovery"},
    {paths::kJwks, kExact, kGet, jwks, on_io_thread, "jwks"},
    {paths::kData, kExact, kGet, data_versions, on_io_thread, "data"},
    {paths::kDataPrefix, kExact, kGet, data_versions, on_io_thread, "data"},
    {paths::kDataPrefix, kPrefix, kGet, data_version, on_io_thread, "data"},
    {paths::kData, kPrefix, kGet, nothing_here, on_io_thread, "data"},
    {paths::kRoot, kExact, kGet, landing, on_pool, "pages"},
    {paths::kStylesheet, kExact, kGet, stylesheet, on_io_thread, "pages"},
    {paths::kStaticPrefix, kPrefix, kGet, nothing_here, on_pool, "pages"},
    {paths::kDemoStart, kExact, kGet, demo_start, on_pool, "pages"},
    {paths::kDemoCallback, kExact, kGet, demo_callback, on_pool, "pages"},
    {paths::kDemoPrefix, kPrefix, kGet, nothing_here, on_pool, "pages"},
    // Served on the metrics listener only; here a 404, counted so that probes show.
    {paths::kMetrics, kExact, kGet, nothing_here, on_io_thread, "metrics"},
    {paths::kIndex, kExact, kGet, landing, on_pool, kUnroutedLabel},
    {paths::kHealthz, kExact, kGet, health, on_io_thread, kUnroutedLabel},
    // Waits for a ping of the database when the last one is over a second old.
    {paths::kReadyz, kExact, kGet, ready, on_pool, kUnroutedLabel},
};

}  // namespace

std::span<const Route> routes() { return kRoutes; }

const Route* find_route(std::string_view path) {
  const Route* best = nullptr;
  for (const Route& r : kRoutes) {
    if (r.match == kExact) {
      if (path == r.path) return &r;
    } else if (path.starts_with(r.path) && (!best || r.path.size() > best->path.size())) {
      best = &r;
    }
  }
  return best;
}

http::Response not_found() {
  return http::token_error(oauth::Error::not_found("no such resource"), false);
}

http::Response healthz() { return http::Response::json(200, R"({"status":"ok"})"); }

http::Response readyz(Services& s) {
  const char* reason = nullptr;
  if (s.draining.load(std::memory_order_acquire)) {
    reason = "draining";
  } else if (auto ring = s.keys.current(); !ring || ring->keys().empty()) {
    reason = "keys";
  } else if (!s.readiness.ready()) {
    reason = "database";
  }
  http::Response r =
      reason ? http::Response::json(
                   503, std::string(R"({"status":"unavailable","reason":")") + reason + "\"}")
             : http::Response::json(200, R"({"status":"ready"})");
  // Each probe must see the state now, not a proxy's copy.
  r.set("Cache-Control", "no-store");
  return r;
}

std::vector<std::string_view> route_labels() {
  std::vector<std::string_view> labels;
  for (const Route& r : kRoutes) {
    if (std::find(labels.begin(), labels.end(), r.label) == labels.end()) {
      labels.push_back(r.label);
    }
  }
  // Last: requests that no route serves, and the routes counted with them.
  std::erase(labels, kUnroutedLabel);
  labels.push_back(kUnroutedLabel);
  return labels;
}

}  // namespace latchkey::app
