// The admin REST API (docs/admin-api.md), served on its own listener (`serve --admin-listen`):
// the operations of the admin commands (app/admin.h), each answering the JSON object the
// command prints, routed by the table of app/admin_routes.h. Every request but the OpenAPI
// document carries an admin token (app/admin_tokens.h); every change is recorded in the audit
// log as an `admin_change` event naming the token (core/events.h).
//
// Thread safety: handle() may be called from any thread; changes run one at a time (a mutex),
// reads concurrently. It reads and writes the database directly, so the server runs it on its
// handler pool, never on an I/O thread (cli/serve.cc).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "app/admin.h"
#include "app/admin_routes.h"
#include "app/admin_tokens.h"
#include "app/key_encryption.h"
#include "core/clock.h"
#include "core/events.h"
#include "core/mutex.h"
#include "core/random.h"
#include "http/message.h"
#include "store/change.h"
#include "store/stores.h"

namespace latchkey::app {

struct AdminApiOptions {
  // serve --audit-log: GET /admin/v1/audit reads the end of this file; "" or "-" answers 404.
  std::string audit_log;
  // Where changes are recorded (the application's audit log); must outlive the API.
  EventSink* events = nullptr;
  // Called after each change with what a server caching records must drop (the app, the user,
  // every token) or reload (the signing keys), so the serving process sees it at once.
  std::function<void(const store::Change&)> on_change;
  // The OpenAPI document served at GET /admin/v1/openapi.json (docs/admin-api.openapi.json,
  // built into the binary).
  std::string_view openapi;
};

// One operation as perform() takes it.
struct AdminRequest {
  AdminOp op = AdminOp::list_apps;
  std::vector<std::string> params;
  boost::json::object body;
  std::string query;
  std::string admin;        // the admin token's name, for the audit log
  std::string remote_addr;  // for the audit log
  std::string request_id;   // for the audit log (http/request_id.h)
};

class AdminApi {
 public:
  AdminApi(store::Database& db, Random& random, const Clock& clock, KekSource& kek,
           AdminApiOptions options);

  http::Response handle(const http::Request& request) EXCLUDES(changes_mu_);

  // Runs one operation for an admin already authenticated (what handle() does once the token
  // is checked), so that the admin console (app/admin_console.h) performs exactly the API's
  // operations: `params` are the route's `{name}` segments, decoded; `body` the request's JSON
  // object; `query` its query string (pagination). A change is recorded in the audit log under
  // `admin`'s name and reported to on_change. Throws store::StoreError when the database fails.
  Result<boost::json::object> perform(const AdminRequest& request) EXCLUDES(changes_mu_);

  // Writes `event` to the audit log the API writes to (none without one): the console's
  // sign-ins go where its changes go.
  void audit(const Event& event) const {
    if (options_.events) options_.events->emit(event);
  }

 private:
  struct Call;
  // The answer of one operation: its JSON, or an error for http::admin_error.
  Result<boost::json::object> run(AdminOp op, Call& call);
  Result<boost::json::object> perform(const AdminRoute& route, Call& call) EXCLUDES(changes_mu_);
  void record(const Call& call, const AdminRoute& route);

  store::Database& db_;
  Admin admin_;
  AdminTokens tokens_;
  AdminApiOptions options_;
  Mutex changes_mu_;
};

}  // namespace latchkey::app
