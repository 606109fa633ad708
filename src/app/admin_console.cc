#include "app/admin_console.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <optional>
#include <vector>

#include "core/error.h"
#include "crypto/crypto.h"
#include "http/errors.h"
#include "http/params.h"

namespace latchkey::app {

using oauth::Error;

namespace {

constexpr std::string_view kSessionCookie = "lk_console";
constexpr std::string_view kPreSessionCookie = "lk_console_pre";
// Every console page lists at most this many items: the admin API's largest page.
constexpr std::string_view kListQuery = "limit=1000";

std::string cookie(std::string_view name, std::string_view value, int64_t max_age_s) {
  // Host-only (no Domain), never sent to the API or anything else on the host (Path), and
  // never on a request another site starts (SameSite=Strict). The listener is plain HTTP (an
  // SSH tunnel or a TLS proxy in front, docs/admin-console.md), so no Secure attribute.
  return std::string(name) + "=" + std::string(value) + "; Path=" + std::string(kConsolePrefix) +
         "; Max-Age=" + std::to_string(max_age_s) + "; HttpOnly; SameSite=Strict";
}

http::Response page(unsigned status, std::string html) {
  http::Response r = http::Response::html(status, std::move(html));
  // Secrets and CSRF tokens are in pages; none is for a cache or the back button's store.
  http::no_store(r);
  // Not no-referrer as on the login pages: under no-referrer a browser sends `Origin: null` with
  // every form POST (Fetch §3.1 "serializing a request origin"), which would leave the Origin
  // check nothing to compare. same-origin sends the console's own origin to itself and no
  // Referer anywhere else.
  r.set("Referrer-Policy", "same-origin");
  return r;
}

// 303 See Other: the answer to a POST is fetched with GET (RFC 9110 §15.4.4).
http::Response see_other(std::string location) {
  http::Response r;
  r.status = 303;
  r.set("Location", std::move(location));
  r.set("Referrer-Policy", "same-origin");
  http::no_store(r);
  return r;
}

// A path segment for a link or a form's action: everything but unreserved characters
// percent-encoded (RFC 3986 §2.3), so a client id holding '/' stays one segment.
std::string segment(std::string_view text) { return http::form_encode(text); }

std::string app_href(std::string_view client_id) {
  return std::string(kConsolePrefix) + "/apps/" + segment(client_id);
}
std::string user_href(std::string_view username) {
  return std::string(kConsolePrefix) + "/users/" + segment(username);
}

std::string text_of(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_bool()) return v.as_bool() ? "yes" : "no";
  if (v.is_null()) return "";
  if (v.is_array()) {
    std::string out;
    for (const auto& item : v.as_array()) {
      if (!out.empty()) out += ", ";
      out += text_of(item);
    }
    return out;
  }
  return boost::json::serialize(v);
}

std::string member(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v ? text_of(*v) : "";
}

const boost::json::array& array_of(const boost::json::object& o, std::string_view name) {
  static const boost::json::array kEmpty;
  const auto* v = o.if_contains(name);
  return v && v->is_array() ? v->as_array() : kEmpty;
}

bool has_more(const boost::json::object& o) {
  const auto* v = o.if_contains("next_cursor");
  return v && !v->is_null();
}

// "2026-12-04 03:15:03 UTC" for a time in ms since the epoch.
std::string when(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_int64()) return "";
  const std::time_t t = static_cast<std::time_t>(v->as_int64() / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::vector<web::ConsoleField> details(const boost::json::object& o,
                                       std::initializer_list<std::string_view> skip) {
  std::vector<web::ConsoleField> out;
  for (const auto& [k, v] : o) {
    if (std::find(skip.begin(), skip.end(), std::string_view(k)) != skip.end()) continue;
    out.push_back({std::string(k), text_of(v)});
  }
  return out;
}

// The status line for `done`, one of a fixed set (never text from the request itself).
std::string notice(const http::Params& query) {
  const std::string_view done = query.value("done");
  if (done == "tokens_revoked") {
    const std::string_view count = query.value("count");
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
    if (ec != std::errc{} || end != count.data() + count.size()) return "Tokens revoked.";
    return "Revoked " + std::to_string(n) + (n == 1 ? " token." : " tokens.");
  }
  struct Known {
    std::string_view code, text;
  };
  static constexpr Known kKnown[] = {
      {"deleted", "App deleted, with its approvals and tokens."},
      {"preauthorized", "Pre-authorization added."},
      {"unpreauthorized", "Pre-authorization removed."},
      {"approval_revoked", "Approval revoked; the user's tokens for this app are revoked."},
      {"user_created", "User created."},
      {"activated", "User activated."},
      {"deactivated", "User deactivated; their tokens are revoked."},
      {"key_rotated", "Signing key rotated: this server signs with the new key now."},
  };
  for (const auto& k : kKnown) {
    if (k.code == done) return std::string(k.text);
  }
  return "";
}

// The lines of a textarea (or anything whitespace-separated), without empty ones.
std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  for (char ch : text) {
    if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      current += ch;
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

unsigned status_of(const Error& e) { return e.code() == "not_found" ? 404u : 400u; }

}  // namespace

// One signed-in request: who, the session's CSRF token, the decoded query and (for a POST) form.
struct AdminConsole::Context {
  const http::Request& request;
  std::string admin;
  std::string csrf;
  http::Params query;
  http::Params form;
  bool post = false;

  web::ConsoleFrame frame(std::string error = {}) const {
    return {admin, csrf, error.empty() ? notice(query) : "", std::move(error)};
  }
};

AdminConsole::AdminConsole(AdminApi& api, store::AdminTokenStore& tokens, Random& random,
                           const Clock& clock, std::string key)
    : api_(api),
      tokens_(tokens, random, clock),
      random_(random),
      sessions_(std::move(key), random, clock) {}

bool AdminConsole::owns(std::string_view path) {
  return path == kConsolePrefix ||
         (path.starts_with(kConsolePrefix) && path.substr(kConsolePrefix.size()).starts_with('/'));
}

http::Response AdminConsole::handle(const http::Request& request) {
  const std::string_view rest = std::string_view(request.path).substr(kConsolePrefix.size());
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  if (!get && !post) {
    http::Response r = error_page(nullptr, 405, "Method not allowed", "Use GET or POST.");
    r.set("Allow", "GET, HEAD, POST");
    return r;
  }
  if (rest.empty() || rest == "/") {
    if (!get) return error_page(nullptr, 405, "Method not allowed", "Use GET.");
    return see_other(std::string(kConsolePrefix) + "/apps");
  }
  if (rest == "/style.css" && get) {
    http::Response r;
    r.body = std::string(pages_.stylesheet());
    r.set("Content-Type", "text/css;charset=utf-8");
    r.set("X-Content-Type-Options", "nosniff");
    r.set("Cache-Control", "no-cache");
    return r;
  }
  if (post) {
    // A form posted from another site's page (RFC 6454 §7.3: browsers send Origin on a POST).
    // The listener's own origin is http://Host, or https://Host behind a TLS proxy that keeps
    // the Host header.
    auto origin = request.header("origin");
    auto host = request.header("host");
    if (origin && (!host || (*origin != "http://" + std::string(*host) &&
                             *origin != "https://" + std::string(*host)))) {
      return error_page(nullptr, 403, "Forbidden", "The form was not sent from this console.");
    }
  }
  try {
    if (rest == "/login") {
      return post ? sign_in(request) : login_page(200, "", request);
    }
    // The session: the first cookie of ours that opens and names a token still there.
    Context c{request, {}, {}, {}, {}, post};
    std::string session;
    for (const auto& value :
         http::cookie_values(request.header("cookie").value_or(""), kSessionCookie)) {
      auto hash = sessions_.open(value);
      if (!hash) continue;
      if (auto name = tokens_.name_of_hash(*hash)) {
        c.admin = std::move(*name);
        session = value;
        break;
      }
    }
    if (c.admin.empty()) {
      if (get) return see_other(std::string(kConsolePrefix) + "/login");
      return error_page(nullptr, 403, "Not signed in",
                        "Sign in to the console again; the session ended.");
    }
    c.csrf = sessions_.csrf(session);
    if (auto q = http::parse_form(request.query)) c.query = std::move(*q);
    if (post) {
      auto form = http::parse_form(request.body);
      if (!form) return error_page(&c, 400, "Bad request", form.error().description());
      c.form = std::move(*form);
      if (!ConsoleSessions::matches(c.form.value("csrf"), c.csrf)) {
        return error_page(nullptr, 403, "Forbidden",
                          "The form expired or was not sent from this console; reload the page "
                          "and try again.");
      }
    }
    return signed_in(request, c);
  } catch (const store::StoreError&) {
    return error_page(nullptr, 503, "Storage unavailable",
                      "The database did not answer; try again.");
  }
}

http::Response AdminConsole::signed_in(const http::Request& request, Context& c) {
  const std::string_view rest = std::string_view(request.path).substr(kConsolePrefix.size() + 1);
  std::vector<std::string_view> parts;
  for (std::string_view r = rest;;) {
    auto slash = r.find('/');
    parts.push_back(r.substr(0, slash));
    if (slash == std::string_view::npos) break;
    r.remove_prefix(slash + 1);
  }
  auto not_found = [&] {
    return error_page(&c, 404, "Not found", "The console has no such page.");
  };
  if (parts.size() == 1 && parts[0] == "logout" && c.post) {
    http::Response r = see_other(std::string(kConsolePrefix) + "/login");
    r.headers.emplace_back("Set-Cookie", cookie(kSessionCookie, "", 0));
    return r;
  }
  if (parts.size() == 1) {
    if (parts[0] == "apps") return apps(c);
    if (parts[0] == "users") return users(c);
    if (parts[0] == "keys" && !c.post) return keys(c);
    if (parts[0] == "audit" && !c.post) return audit(c);
  }
  if (parts.size() == 2 && parts[0] == "keys" && parts[1] == "rotate" && c.post) return keys(c);
  if (parts.size() >= 2 && (parts[0] == "apps" || parts[0] == "users")) {
    auto name = decode_segment(parts[1]);
    if (!name || name->empty()) return not_found();
    std::string action;
    for (std::size_t i = 2; i < parts.size(); ++i) {
      action += (i > 2 ? "/" : "");
      action += parts[i];
    }
    if (action.empty() == c.post) return not_found();
    return parts[0] == "apps" ? app(c, *name, action) : user(c, *name, action);
  }
  return not_found();
}

http::Response AdminConsole::login_page(unsigned status, std::string_view error,
                                        const http::Request& request) {
  // The sign-in form's CSRF token is bound to a pre-session cookie, kept while it is valid.
  std::string pre;
  for (const auto& v :
       http::cookie_values(request.header("cookie").value_or(""), kPreSessionCookie)) {
    if (v.size() == 43) pre = v;
  }
  const bool fresh = pre.empty();
  if (fresh) pre = crypto::random_token(random_);
  http::Response r = page(status, pages_.login({sessions_.login_csrf(pre), std::string(error)}));
  if (fresh) r.headers.emplace_back("Set-Cookie", cookie(kPreSessionCookie, pre, 3600));
  return r;
}

http::Response AdminConsole::sign_in(const http::Request& request) {
  auto form = http::parse_form(request.body);
  if (!form) return login_page(400, "The form could not be read.", request);
  bool bound = false;
  for (const auto& v :
       http::cookie_values(request.header("cookie").value_or(""), kPreSessionCookie)) {
    bound = bound || ConsoleSessions::matches(form->value("csrf"), sessions_.login_csrf(v));
  }
  if (!bound) {
    return error_page(nullptr, 403, "Forbidden",
                      "The sign-in form expired or was not sent from this console; reload the "
                      "page and try again.");
  }
  const std::string_view token = form->value("token");
  // Compared in constant time with every stored hash (AdminTokens::authenticate); the answer
  // says nothing of why a token was refused.
  const std::optional<std::string> admin =
      token.empty() ? std::nullopt : tokens_.authenticate("Bearer " + std::string(token));
  if (!admin) {
    api_.audit({EventType::admin_sign_in_failure,
                {},
                {},
                "invalid_token",
                request.remote_addr,
                request.request_id});
    return login_page(400, "That admin token is not valid.", request);
  }
  api_.audit({EventType::admin_sign_in,
              {},
              {},
              "console",
              request.remote_addr,
              request.request_id,
              *admin});
  http::Response r = see_other(std::string(kConsolePrefix) + "/apps");
  r.headers.emplace_back(
      "Set-Cookie",
      cookie(kSessionCookie, sessions_.issue(crypto::sha256_hex(token)), kConsoleSessionMs / 1000));
  r.headers.emplace_back("Set-Cookie", cookie(kPreSessionCookie, "", 0));
  return r;
}

namespace {

AdminRequest op(AdminOp which, const http::Request& r, const std::string& admin,
                std::vector<std::string> params = {}, boost::json::object body = {},
                std::string_view query = {}) {
  return {which, std::move(params), std::move(body), std::string(query),
          admin, r.remote_addr,     r.request_id};
}

}  // namespace

http::Response AdminConsole::apps(Context& c) {
  if (!c.post) return apps_page(c, {}, "", 200);
  web::NewAppForm form;
  form.name = c.form.value("name");
  form.client_id = c.form.value("client_id");
  form.callbacks = c.form.value("callbacks");
  form.scopes = c.form.value("scopes");
  form.run_as = c.form.value("client_credentials_user");
  form.auth_method = c.form.value("token_endpoint_auth_method");
  boost::json::object body{{"name", form.name}};
  boost::json::array callbacks;
  for (auto& cb : words(form.callbacks)) callbacks.emplace_back(cb);
  if (!callbacks.empty()) body["callbacks"] = std::move(callbacks);
  if (!form.client_id.empty()) body["client_id"] = form.client_id;
  if (!form.scopes.empty()) body["scopes"] = form.scopes;
  if (!form.run_as.empty()) body["client_credentials_user"] = form.run_as;
  if (!form.auth_method.empty()) body["token_endpoint_auth_method"] = form.auth_method;
  auto out = api_.perform(op(AdminOp::create_app, c.request, c.admin, {}, std::move(body)));
  if (!out) return apps_page(c, form, out.error().description(), 400);
  const std::string client_id = member(*out, "client_id");
  return page(200, pages_.secret({c.frame(), "App created", client_id,
                                  member(*out, "client_secret"), app_href(client_id)}));
}

http::Response AdminConsole::apps_page(Context& c, const web::NewAppForm& form,
                                       std::string_view error, unsigned status) {
  auto out = api_.perform(op(AdminOp::list_apps, c.request, c.admin, {}, {}, kListQuery));
  if (!out) return error_page(&c, 500, "Apps", out.error().description());
  web::ConsoleAppsView v{c.frame(std::string(error)), {}, has_more(*out), form};
  for (const auto& a : array_of(*out, "apps")) {
    const auto& o = a.as_object();
    const std::string id = member(o, "client_id");
    v.apps.push_back({id, member(o, "name"), member(o, "token_endpoint_auth_method"),
                      member(o, "scopes"), app_href(id)});
  }
  return page(status, pages_.apps(v));
}

http::Response AdminConsole::app(Context& c, const std::string& client_id,
                                 std::string_view action) {
  if (action.empty()) return app_page(c, client_id, "", 200);
  const std::string base = app_href(client_id);
  Result<boost::json::object> out = Error::invalid_request("unknown action");
  std::string done;
  if (action == "secret") {
    out = api_.perform(op(AdminOp::rotate_secret, c.request, c.admin, {client_id}));
    if (out) {
      return page(200, pages_.secret({c.frame(), "Secret rotated", client_id,
                                      member(*out, "client_secret"), base}));
    }
  } else if (action == "delete") {
    if (c.form.value("confirm") != "yes") {
      return app_page(c, client_id, "Tick the box to confirm the deletion.", 400);
    }
    out = api_.perform(op(AdminOp::delete_app, c.request, c.admin, {client_id}));
    if (out) return see_other(std::string(kConsolePrefix) + "/apps?done=deleted");
  } else if (action == "preauthorizations") {
    boost::json::object body{{"kind", c.form.value("kind")}, {"name", c.form.value("name")}};
    out = api_.perform(
        op(AdminOp::add_preauthorization, c.request, c.admin, {client_id}, std::move(body)));
    done = "preauthorized";
  } else if (action == "preauthorizations/remove") {
    out = api_.perform(
        op(AdminOp::remove_preauthorization, c.request, c.admin,
           {client_id, std::string(c.form.value("kind")), std::string(c.form.value("name"))}));
    done = "unpreauthorized";
  } else if (action == "approvals/revoke") {
    out = api_.perform(op(AdminOp::revoke_approval, c.request, c.admin,
                          {client_id, std::string(c.form.value("username"))}));
    done = "approval_revoked";
  } else {
    return error_page(&c, 404, "Not found", "The console has no such page.");
  }
  if (!out) return app_page(c, client_id, out.error().description(), status_of(out.error()));
  return see_other(base + "?done=" + done);
}

http::Response AdminConsole::app_page(Context& c, const std::string& client_id,
                                      std::string_view error, unsigned status) {
  auto shown = api_.perform(op(AdminOp::show_app, c.request, c.admin, {client_id}));
  if (!shown) {
    return error_page(&c, status_of(shown.error()), "App", shown.error().description());
  }
  auto approvals =
      api_.perform(op(AdminOp::list_approvals, c.request, c.admin, {client_id}, {}, kListQuery));
  web::ConsoleAppView v;
  v.frame = c.frame(std::string(error));
  v.client_id = client_id;
  v.name = member(*shown, "name");
  v.base = app_href(client_id);
  v.details = details(*shown, {"preauthorized"});
  v.uses_secret = member(*shown, "token_endpoint_auth_method").starts_with("client_secret");
  if (approvals) {
    for (const auto& p : array_of(*approvals, "preauthorized")) {
      v.preauthorized.push_back({member(p.as_object(), "kind"), member(p.as_object(), "name")});
    }
    for (const auto& a : array_of(*approvals, "approved_by")) {
      const auto& o = a.as_object();
      v.approvals.push_back({member(o, "username"), member(o, "scopes"), when(o, "approved_ms")});
    }
  }
  return page(status, pages_.app(v));
}

http::Response AdminConsole::users(Context& c) {
  if (!c.post) return users_page(c, {}, "", 200);
  web::NewUserForm form{std::string(c.form.value("username")), std::string(c.form.value("name")),
                        std::string(c.form.value("email")), std::string(c.form.value("profile"))};
  boost::json::object body{{"username", form.username}, {"password", c.form.value("password")}};
  if (!form.name.empty()) body["name"] = form.name;
  if (!form.email.empty()) body["email"] = form.email;
  if (!form.profile.empty()) body["profile"] = form.profile;
  auto out = api_.perform(op(AdminOp::create_user, c.request, c.admin, {}, std::move(body)));
  if (!out) return users_page(c, form, out.error().description(), 400);
  return see_other(user_href(form.username) + "?done=user_created");
}

http::Response AdminConsole::users_page(Context& c, const web::NewUserForm& form,
                                        std::string_view error, unsigned status) {
  auto out = api_.perform(op(AdminOp::list_users, c.request, c.admin, {}, {}, kListQuery));
  if (!out) return error_page(&c, 500, "Users", out.error().description());
  web::ConsoleUsersView v{c.frame(std::string(error)), {}, has_more(*out), form};
  for (const auto& u : array_of(*out, "users")) {
    const auto& o = u.as_object();
    const auto* active = o.if_contains("active");
    v.users.push_back({member(o, "username"), member(o, "email"), member(o, "profile"),
                       user_href(member(o, "username")),
                       !active || !active->is_bool() || active->as_bool()});
  }
  return page(status, pages_.users(v));
}

http::Response AdminConsole::user(Context& c, const std::string& username,
                                  std::string_view action) {
  if (action.empty()) return user_page(c, username, "", 200);
  const std::string base = user_href(username);
  if (action == "active") {
    const bool active = c.form.value("active") == "true";
    auto out = api_.perform(op(AdminOp::update_user, c.request, c.admin, {username},
                               boost::json::object{{"active", active}}));
    if (!out) return user_page(c, username, out.error().description(), status_of(out.error()));
    return see_other(base + (active ? "?done=activated" : "?done=deactivated"));
  }
  if (action == "revoke-tokens") {
    auto out = api_.perform(op(AdminOp::revoke_user_tokens, c.request, c.admin, {username}));
    if (!out) return user_page(c, username, out.error().description(), status_of(out.error()));
    const auto* n = out->if_contains("revoked");
    const int64_t count = n && n->is_int64() ? n->as_int64() : 0;
    return see_other(base + "?done=tokens_revoked&count=" + std::to_string(count));
  }
  return error_page(&c, 404, "Not found", "The console has no such page.");
}

http::Response AdminConsole::user_page(Context& c, const std::string& username,
                                       std::string_view error, unsigned status) {
  auto shown = api_.perform(op(AdminOp::show_user, c.request, c.admin, {username}));
  if (!shown) {
    return error_page(&c, status_of(shown.error()), "User", shown.error().description());
  }
  const auto* active = shown->if_contains("active");
  web::ConsoleUserView v{c.frame(std::string(error)), username, user_href(username),
                         details(*shown, {}), !active || !active->is_bool() || active->as_bool()};
  return page(status, pages_.user(v));
}

http::Response AdminConsole::keys(Context& c) {
  if (c.post) {
    auto out = api_.perform(op(AdminOp::rotate_key, c.request, c.admin));
    if (!out) return error_page(&c, 400, "Signing keys", out.error().description());
    return see_other(std::string(kConsolePrefix) + "/keys?done=key_rotated");
  }
  auto out = api_.perform(op(AdminOp::list_keys, c.request, c.admin, {}, {}, kListQuery));
  if (!out) return error_page(&c, 500, "Signing keys", out.error().description());
  web::ConsoleKeysView v{c.frame(), {}};
  for (const auto& k : array_of(*out, "keys")) {
    const auto& o = k.as_object();
    v.keys.push_back(
        {member(o, "kid"), member(o, "alg"), member(o, "state"), when(o, "created_ms")});
  }
  return page(200, pages_.keys(v));
}

http::Response AdminConsole::audit(Context& c) {
  auto out = api_.perform(op(AdminOp::audit_tail, c.request, c.admin, {}, {}, "limit=100"));
  web::ConsoleAuditView v{c.frame(), {}, {}};
  if (!out) {
    v.unavailable = out.error().description();
  } else {
    for (const auto& e : array_of(*out, "events")) v.events.push_back(boost::json::serialize(e));
  }
  return page(200, pages_.audit(v));
}

http::Response AdminConsole::error_page(const Context* c, unsigned status, std::string title,
                                        std::string description) {
  web::ConsoleErrorView v{c ? c->frame() : web::ConsoleFrame{}, std::move(title),
                          std::move(description)};
  return page(status, pages_.error(v));
}

}  // namespace latchkey::app
