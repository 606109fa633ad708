// The admin console's server-rendered pages (docs/admin-console.md): sign-in, apps, one app,
// users, one user, signing keys, the audit tail, a client secret shown once, and errors.
//
// Templates (src/web/templates/admin_*.mustache) and the console's stylesheet are compiled
// into the binary (assets.h) and parsed once when ConsolePages is constructed. Every value of a
// view is HTML-escaped by the templates ({{ }}), so views may carry untrusted strings such as
// app names or usernames; links (`href`, `base`) are made by the caller from percent-encoded
// segments. No page contains a script: they are served under a CSP that forbids them.
//
// Thread safety: immutable after construction; all methods may be called concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::web {

// What every signed-in page shows around its content.
struct ConsoleFrame {
  std::string admin;   // the admin token's name; empty on the sign-in page (no navigation)
  std::string csrf;    // the hidden `csrf` of every form of the page, sign-out included
  std::string notice;  // "" or what the last action did
  std::string error;   // "" or why the last action failed
};

// One "label: value" line of a details list.
struct ConsoleField {
  std::string label, value;
};

struct ConsoleLoginView {
  std::string csrf;
  std::string error;
};

struct ConsoleAppRow {
  std::string client_id, name, auth_method, scopes, href;
};
// The "create app" form's values (kept when the creation failed).
struct NewAppForm {
  std::string name, client_id, callbacks, scopes = "api refresh_token", run_as;
  std::string auth_method = "client_secret_basic";
};
struct ConsoleAppsView {
  ConsoleFrame frame;
  std::vector<ConsoleAppRow> apps;
  bool more = false;  // the list was cut at its first page
  NewAppForm form;
};

// A client secret shown once: after creating an app or rotating its secret.
struct ConsoleSecretView {
  ConsoleFrame frame;
  std::string heading, client_id, client_secret, app_href;
};

struct ConsolePreauthorization {
  std::string kind, name;
};
struct ConsoleApproval {
  std::string username, scopes, approved;
};
struct ConsoleAppView {
  ConsoleFrame frame;
  std::string client_id, name;
  std::string base;  // the app's page, the prefix of its forms' actions
  std::vector<ConsoleField> details;
  bool uses_secret = false;  // offers "rotate secret"
  std::vector<ConsolePreauthorization> preauthorized;
  std::vector<ConsoleApproval> approvals;
};

struct ConsoleUserRow {
  std::string username, email, profile, href;
  bool active = true;
};
struct NewUserForm {
  std::string username, name, email, profile;
};
struct ConsoleUsersView {
  ConsoleFrame frame;
  std::vector<ConsoleUserRow> users;
  bool more = false;
  NewUserForm form;
};
struct ConsoleUserView {
  ConsoleFrame frame;
  std::string username, base;
  std::vector<ConsoleField> details;
  bool active = true;
};

struct ConsoleKeyRow {
  std::string kid, alg, state, created;
};
struct ConsoleKeysView {
  ConsoleFrame frame;
  std::vector<ConsoleKeyRow> keys;
};

struct ConsoleAuditView {
  ConsoleFrame frame;
  std::vector<std::string> events;  // one JSON text each, newest last
  std::string unavailable;          // why there is no tail to show, or ""
};

struct ConsoleErrorView {
  ConsoleFrame frame;
  std::string title, description;
};

class ConsolePages {
 public:
  // Parses every template. Throws std::logic_error if an embedded one is missing or malformed
  // (a build defect, found at start-up and by the unit tests).
  ConsolePages();
  ~ConsolePages();
  ConsolePages(ConsolePages&&) noexcept;
  ConsolePages& operator=(ConsolePages&&) noexcept;
  ConsolePages(const ConsolePages&) = delete;
  ConsolePages& operator=(const ConsolePages&) = delete;

  [[nodiscard]] std::string login(const ConsoleLoginView& view) const;
  [[nodiscard]] std::string apps(const ConsoleAppsView& view) const;
  [[nodiscard]] std::string secret(const ConsoleSecretView& view) const;
  [[nodiscard]] std::string app(const ConsoleAppView& view) const;
  [[nodiscard]] std::string users(const ConsoleUsersView& view) const;
  [[nodiscard]] std::string user(const ConsoleUserView& view) const;
  [[nodiscard]] std::string keys(const ConsoleKeysView& view) const;
  [[nodiscard]] std::string audit(const ConsoleAuditView& view) const;
  [[nodiscard]] std::string error(const ConsoleErrorView& view) const;
  // The login pages' style.css followed by the console's additions, served at
  // /admin/console/style.css.
  [[nodiscard]] std::string_view stylesheet() const;

 private:
  struct Templates;
  std::unique_ptr<const Templates> templates_;
};

}  // namespace latchkey::web
