// The admin console (docs/admin-console.md): server-rendered pages under /admin/console/ on
// the admin listener (`serve --admin-listen`) for what the admin API does: apps (a new secret
// shown once), approvals and pre-authorizations, users, revoking a user's tokens, signing keys
// and the audit tail. Every operation is the admin API's own (AdminApi::perform), so it is
// recorded in the audit log under the signed-in admin token's name and seen by the serving
// process's cache at once.
//
// Sign-in takes an admin token (app/admin_tokens.h) and sets a stateless session cookie
// (app/console_session.h) that lasts 8 hours and ends when the token is revoked. Every form
// carries a CSRF token bound to the session (or, for sign-in, to a pre-session cookie), and a
// POST whose Origin is another site is refused (RFC 9700 §4.7, RFC 6454 §7.3). Pages go out
// with the login pages' security headers (http::Response::html) and Cache-Control: no-store.
//
// Thread safety: handle() may be called from any thread; it holds no state of its own beyond
// what the constructor set. Like AdminApi it reads the database, so the server runs it on the
// admin listener's handler pool.
#pragma once

#include <string>
#include <string_view>

#include "app/admin_api.h"
#include "app/admin_tokens.h"
#include "app/console_session.h"
#include "http/message.h"
#include "web/console_pages.h"

namespace latchkey::app {

inline constexpr std::string_view kConsolePrefix = "/admin/console";

class AdminConsole {
 public:
  // `key`: the console's secret, crypto::KeySealer::derive_key("admin console v1") in a
  // server, so that every node of an installation accepts the others' cookies and forms.
  // Every reference must outlive the console.
  AdminConsole(AdminApi& api, store::AdminTokenStore& tokens, Random& random, const Clock& clock,
               std::string key);

  // Whether `path` (as received) is the console's: /admin/console or under /admin/console/.
  static bool owns(std::string_view path);

  http::Response handle(const http::Request& request);

 private:
  struct Context;
  http::Response signed_in(const http::Request& request, Context& c);
  http::Response login_page(unsigned status, std::string_view error, const http::Request& request);
  http::Response sign_in(const http::Request& request);
  http::Response apps(Context& c);
  http::Response app(Context& c, const std::string& client_id, std::string_view action);
  http::Response users(Context& c);
  http::Response user(Context& c, const std::string& username, std::string_view action);
  http::Response keys(Context& c);
  http::Response audit(Context& c);

  // The apps page with `form` and `error` (the form's last attempt), `status` 200 or 400.
  http::Response apps_page(Context& c, const web::NewAppForm& form, std::string_view error,
                           unsigned status);
  http::Response app_page(Context& c, const std::string& client_id, std::string_view error,
                          unsigned status);
  http::Response users_page(Context& c, const web::NewUserForm& form, std::string_view error,
                            unsigned status);
  http::Response user_page(Context& c, const std::string& username, std::string_view error,
                           unsigned status);
  http::Response error_page(const Context* c, unsigned status, std::string title,
                            std::string description);

  AdminApi& api_;
  AdminTokens tokens_;
  Random& random_;
  ConsoleSessions sessions_;
  web::ConsolePages pages_;
};

}  // namespace latchkey::app
