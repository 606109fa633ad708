// The public listener's routes: ONE table that Application::handle routes by, that says which
// requests the server may run on its I/O threads (Application::never_waits_on_disk, read by
// http::ServerOptions::run_inline) and that labels each request in the metrics. /metrics is
// not served here (behaviour §8): Application::handle_metrics serves it on its own listener.
// The table is constant; everything here is thread-safe.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace latchkey::app {

struct Services;  // app/services.h

struct Route {
  enum class Match {
    exact,   // the path is `path`
    prefix,  // the path starts with `path`; the longest such row wins, after any exact row
  };
  enum class Methods {
    any,       // every method reaches the handler, which refuses the ones it does not serve
               // with its endpoint's own error (the token endpoint's counts as a refusal)
    get_head,  // GET and HEAD; any other method is answered 405 before the handler
  };
  std::string_view path;
  Match match;
  Methods methods;
  http::Response (*handler)(Services& services, const http::Request& request);
  // True when the request may run on an I/O thread: its handling never blocks on a durable
  // write of its own (a write the response awaits does not count), nor on a password check.
  // Its reads are served by the cache, or awaited as a write is (the code exchange's code,
  // store::CodeStore::find_code_later).
  bool (*runs_inline)(const http::Request& request);
  // The `endpoint` label of latchkey_http_requests_total and its latency histogram.
  std::string_view label;
};

// Every route, in a fixed order.
std::span<const Route> routes();

// The route serving `path`: the row with that exact path, else the prefix row with the longest
// matching prefix; nullptr for none. A request without a route is answered 404 (GET, HEAD) or
// 405, runs on the handler pool and is labelled kUnroutedLabel.
const Route* find_route(std::string_view path);

inline constexpr std::string_view kUnroutedLabel = "other";

// The answers both listeners share: 404 in RFC 6749 §5.2 JSON, the liveness check, and the
// readiness check's answer (behaviour §4): 503 {"status":"unavailable","reason":R} while the
// server drains before stopping (R = "draining", docs/operations.md), has no signing key
// loaded ("keys") or its database does not answer ("database"), checked in that order so the
// cheap checks spare the database a ping; else 200 {"status":"ready"}.
http::Response not_found();
http::Response healthz();
http::Response readyz(Services& services);

// The distinct labels of the routes in table order, then kUnroutedLabel: the metrics' rows.
std::vector<std::string_view> route_labels();

}  // namespace latchkey::app
