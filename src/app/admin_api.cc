#include "app/admin_api.h"

#include <algorithm>
#include <fstream>
#include <vector>

#include "app/admin_pages.h"
#include "core/error.h"
#include "http/errors.h"
#include "http/params.h"

namespace latchkey::app {

using oauth::Error;
using Kind = store::Preauthorization::Kind;

// One request being answered: its route's parameters, its body and query, who made it, and
// what a change touched (for the audit log and the cache).
struct AdminApi::Call {
  std::vector<std::string> params;
  Result<boost::json::object> body;  // an error for a body that is not a JSON object
  std::string_view query;
  std::string_view remote_addr;
  std::string_view request_id;
  std::string admin;  // the token's name
  int status = 200;   // 201 for a creation
  std::string client_id;
  std::string user_id;
  std::vector<store::Change> changes;
};

namespace {

// The JSON object of a request's body; an empty body is an empty object.
Result<boost::json::object> body_of(const http::Request& r) {
  if (r.body.empty()) return boost::json::object{};
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object()) return Error::invalid_request("the body must be a JSON object");
  return std::move(v.as_object());
}

// The members of a request's JSON object, each read by type into a variable that keeps its
// default when the member is absent or null. The first problem is kept for status(), which
// also refuses a member not read by name, so that a misspelt field is an error rather than
// ignored.
class Fields {
 public:
  explicit Fields(const boost::json::object& o) : o_(o) {}

  template <class T>
  void text(std::string_view name, T& out) {
    if (const auto* v = member(name)) {
      if (v->is_string()) {
        out = std::string(v->as_string());
      } else {
        fail(name, "a string");
      }
    }
  }
  template <class T>
  void boolean(std::string_view name, T& out) {
    if (const auto* v = member(name)) {
      if (v->is_bool()) {
        out = v->as_bool();
      } else {
        fail(name, "true or false");
      }
    }
  }
  void integer(std::string_view name, int64_t& out) {
    if (const auto* v = member(name)) {
      if (v->is_int64()) {
        out = v->as_int64();
      } else {
        fail(name, "an integer");
      }
    }
  }
  template <class T>
  void list(std::string_view name, T& out) {
    const auto* v = member(name);
    if (!v) return;
    const auto* a = v->if_array();
    std::vector<std::string> items;
    for (const auto& item : a ? *a : boost::json::array{}) {
      if (!item.is_string()) break;
      items.emplace_back(item.as_string());
    }
    if (!a || items.size() != a->size()) {
      fail(name, "an array of strings");
      return;
    }
    out = std::move(items);
  }
  // The first problem met, or a member that no call above read.
  Status status() const {
    if (error_) return *error_;
    for (const auto& [key, value] : o_) {
      if (std::find(known_.begin(), known_.end(), std::string_view(key)) == known_.end()) {
        return Error::invalid_request("unknown member " + std::string(key));
      }
    }
    return Ok{};
  }

 private:
  const boost::json::value* member(std::string_view name) {
    known_.push_back(name);
    const auto* v = o_.if_contains(name);
    return v && !v->is_null() ? v : nullptr;
  }
  void fail(std::string_view name, std::string_view what) {
    if (!error_)
      error_ = Error::invalid_request(std::string(name) + " must be " + std::string(what));
  }

  const boost::json::object& o_;
  std::vector<std::string_view> known_;
  std::optional<Error> error_;
};

Result<Kind> kind_of(std::string_view text) {
  if (text == "profile") return Kind::profile;
  if (text == "permission_set") return Kind::permission_set;
  return Error::invalid_request("kind must be profile or permission_set");
}

// The last `n` lines of the file at `path` (one JSON object each), oldest first.
Result<boost::json::object> tail(const std::string& path, int64_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::not_found("the audit log " + path + " cannot be read");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  // Reads backwards in blocks until it holds n + 1 line ends (or the whole file).
  std::string text;
  std::streamoff pos = size;
  constexpr std::streamoff kBlock = 64 * 1024;
  while (pos > 0) {
    std::streamoff start = pos > kBlock ? pos - kBlock : 0;
    std::string block(static_cast<std::size_t>(pos - start), '\0');
    in.seekg(start);
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    text.insert(0, block);
    pos = start;
    if (std::count(text.begin(), text.end(), '\n') > n) break;
  }
  std::vector<std::string_view> lines;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (!line.empty()) lines.push_back(line);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  // The first line may be cut by the block boundary: it is dropped unless the file began there.
  std::size_t first =
      lines.size() > static_cast<std::size_t>(n) ? lines.size() - static_cast<std::size_t>(n) : 0;
  if (pos > 0 && first == 0 && !lines.empty()) first = 1;
  boost::json::array events;
  for (std::size_t i = first; i < lines.size(); ++i) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(lines[i], ec);
    if (!ec && v.is_object()) events.push_back(std::move(v));
  }
  return boost::json::object{{"events", std::move(events)}};
}

}  // namespace

AdminApi::AdminApi(store::Database& db, Random& random, const Clock& clock, KekSource& kek,
                   AdminApiOptions options)
    : db_(db),
      admin_(db, random, clock, kek),
      tokens_(db, random, clock),
      options_(std::move(options)) {}

http::Response AdminApi::handle(const http::Request& request) {
  AdminMatch match = match_admin_route(request.method, request.path);
  auto token = request.header("authorization");
  try {
    if (!match.route) {
      if (match.allow.empty()) {
        return http::admin_error(Error::not_found("no such resource"), false);
      }
      http::Response r = http::admin_error(Error::method_not_allowed(), false);
      r.set("Allow", match.allow);
      return r;
    }
    const AdminRoute& route = *match.route;
    Call call{std::move(match.params),
              body_of(request),
              request.query,
              request.remote_addr,
              request.request_id,
              {},
              200,
              {},
              {},
              {}};
    if (route.needs_token) {
      auto name = token ? tokens_.authenticate(*token) : std::nullopt;
      if (!name) {
        return http::admin_error(
            Error::invalid_token(token ? "the admin token is not valid"
                                       : "an admin token is required (Authorization: Bearer)"),
            token.has_value());
      }
      call.admin = std::move(*name);
    }
    if (route.op == AdminOp::openapi) {
      http::Response r = http::Response::json(200, std::string(options_.openapi));
      return r;
    }
    Result<boost::json::object> out = perform(route, call);
    if (!out) return http::admin_error(out.error(), false);
    http::Response r =
        http::Response::json(static_cast<unsigned>(call.status), boost::json::serialize(*out));
    // Secrets and tokens are in some answers; none is for a cache.
    http::no_store(r);
    return r;
  } catch (const store::StoreError&) {
    return http::admin_error(Error::temporarily_unavailable("storage is unavailable, try again"),
                             false);
  }
}

Result<boost::json::object> AdminApi::perform(const AdminRequest& request) {
  const auto routes = admin_routes();
  auto route = std::find_if(routes.begin(), routes.end(),
                            [&](const AdminRoute& r) { return r.op == request.op; });
  if (route == routes.end() || !route->needs_token) {
    return Error::server_error("not an operation of an admin");
  }
  Call call{request.params,
            request.body,
            request.query,
            request.remote_addr,
            request.request_id,
            request.admin,
            200,
            {},
            {},
            {}};
  return perform(*route, call);
}

Result<boost::json::object> AdminApi::perform(const AdminRoute& route, Call& call) {
  if (!route.changes) return run(route.op, call);
  MutexLock lock(changes_mu_);
  auto out = run(route.op, call);
  if (out) record(call, route);
  return out;
}

void AdminApi::record(const Call& call, const AdminRoute& route) {
  for (const auto& c : call.changes) {
    if (options_.on_change) options_.on_change(c);
  }
  if (!options_.events) return;
  Event e{EventType::admin_change, call.client_id, call.user_id, route.operation_id,
          call.remote_addr};
  e.request_id = call.request_id;
  e.admin = call.admin;
  options_.events->emit(e);
}

Result<boost::json::object> AdminApi::run(AdminOp op, Call& call) {
  const auto& p = call.params;
  // Admin's operations say "no such app/user" as invalid_request, the command line's exit
  // status 1; here a resource the path names and that does not exist is a 404.
  auto need_app = [&](const std::string& client_id) -> Status {
    if (!db_.find_app(client_id)) return Error::not_found("no such app: " + client_id);
    return Ok{};
  };
  auto need_user = [&](const std::string& username) -> Result<store::User> {
    auto u = db_.find_user_by_username(username);
    if (!u) return Error::not_found("no such user: " + username);
    return *u;
  };
  auto page = [&](boost::json::object whole, std::string_view member,
                  std::string_view key) -> Result<boost::json::object> {
    auto req = page_request(call.query);
    if (!req) return std::move(req).error();
    paginate(whole, member, key, *req);
    return whole;
  };
  switch (op) {
    case AdminOp::openapi:
      return boost::json::object{};  // answered by handle()
    case AdminOp::list_apps:
      return page(admin_.list_apps(), "apps", "client_id");
    case AdminOp::create_app: {
      const auto& body = call.body;
      if (!body) return body.error();
      Fields f(*body);
      NewApp a;
      std::optional<std::string> name;
      f.text("name", name);
      f.text("client_id", a.client_id);
      f.list("callbacks", a.callbacks);
      f.text("scopes", a.scopes);
      f.text("pkce", a.pkce);
      f.boolean("require_secret_web_server", a.require_secret_web_server);
      f.boolean("require_secret_refresh", a.require_secret_refresh);
      f.text("permitted_users", a.permitted_users);
      f.text("client_credentials_user", a.client_credentials_user);
      f.text("refresh_policy", a.refresh_policy);
      f.integer("access_token_ttl", a.access_token_ttl_s);
      f.boolean("allow_implicit", a.allow_implicit);
      f.boolean("allow_password_flow", a.allow_password_flow);
      f.text("token_format", a.token_format);
      f.text("mtls_subject_dn", a.mtls_subject_dn);
      f.text("token_endpoint_auth_method", a.token_endpoint_auth_method);
      if (auto read = f.status(); !read) return std::move(read).error();
      if (!name || name->empty()) return Error::invalid_request("name is required");
      a.name = *name;
      if (!a.client_id.empty() && db_.find_app(a.client_id)) {
        return Error::conflict("an app with client id " + a.client_id + " exists");
      }
      auto out = admin_.create_app(a);
      if (!out) return out;
      call.status = 201;
      call.client_id = std::string((*out)["client_id"].as_string());
      call.changes.push_back(store::Change::app(call.client_id));
      return out;
    }
    case AdminOp::show_app:
      if (auto s = need_app(p[0]); !s) return std::move(s).error();
      return admin_.show_app(p[0]);
    case AdminOp::rotate_secret: {
      if (auto s = need_app(p[0]); !s) return std::move(s).error();
      auto out = admin_.rotate_secret(p[0]);
      call.client_id = p[0];
      call.changes.push_back(store::Change::app(p[0]));
      return out;
    }
    case AdminOp::delete_app: {
      if (auto s = need_app(p[0]); !s) return std::move(s).error();
      call.client_id = p[0];
      call.changes.push_back(store::Change::app(p[0]));
      call.changes.push_back(store::Change::all_tokens());
      return admin_.delete_app(p[0]);
    }
    case AdminOp::list_approvals: {
      if (auto s = need_app(p[0]); !s) return std::move(s).error();
      auto out = admin_.approvals(p[0]);
      if (!out) return out;
      return page(std::move(*out), "approved_by", "user_id");
    }
    case AdminOp::add_preauthorization: {
      if (auto s = need_app(p[0]); !s) return std::move(s).error();
      const auto& body = call.body;
      if (!body) return body.error();
      Fields f(*body);
      std::string kind, name;
      f.text("kind", kind);
      f.text("name", name);
      if (auto read = f.status(); !read) return std::move(read).error();
      auto k = kind_of(kind);
      if (!k) return std::move(k).error();
      call.client_id = p[0];
      call.status = 201;
      return admin_.preauthorize(p[0], *k, name);
    }
    case AdminOp::remove_preauthorization: {
      if (auto s = need_app(p[0]); !s) return std::move(s).error();
      auto k = kind_of(p[1]);
      if (!k) return std::move(k).error();
      call.client_id = p[0];
      auto out = admin_.unpreauthorize(p[0], *k, p[2]);
      if (!out) return Error::not_found(out.error().description());
      return out;
    }
    case AdminOp::revoke_approval: {
      if (auto s = need_app(p[0]); !s) return std::move(s).error();
      auto u = need_user(p[1]);
      if (!u) return std::move(u).error();
      auto out = admin_.revoke_approval(p[0], p[1]);
      if (!out) return Error::not_found(out.error().description());
      call.client_id = p[0];
      call.user_id = u->id;
      call.changes.push_back(store::Change::all_tokens());
      return out;
    }
    case AdminOp::list_users:
      return page(admin_.list_users(), "users", "username");
    case AdminOp::create_user: {
      const auto& body = call.body;
      if (!body) return body.error();
      Fields f(*body);
      NewUser u;
      f.text("username", u.username);
      f.text("password", u.password);
      f.text("email", u.email);
      f.text("name", u.name);
      f.text("profile", u.profile);
      f.list("permission_sets", u.permission_sets);
      if (auto read = f.status(); !read) return std::move(read).error();
      if (u.username.empty() || u.password.empty()) {
        return Error::invalid_request("username and password are required");
      }
      if (db_.find_user_by_username(u.username)) {
        return Error::conflict("a user named " + u.username + " exists");
      }
      auto out = admin_.create_user(u);
      if (!out) return out;
      call.status = 201;
      call.user_id = std::string((*out)["user_id"].as_string());
      return out;
    }
    case AdminOp::show_user: {
      auto u = need_user(p[0]);
      if (!u) return std::move(u).error();
      return admin_.show_user(p[0]);
    }
    case AdminOp::update_user: {
      auto u = need_user(p[0]);
      if (!u) return std::move(u).error();
      const auto& body = call.body;
      if (!body) return body.error();
      Fields f(*body);
      std::optional<std::string> profile;
      std::optional<std::vector<std::string>> sets;
      std::optional<bool> active;
      f.text("profile", profile);
      f.list("permission_sets", sets);
      f.boolean("active", active);
      if (auto read = f.status(); !read) return std::move(read).error();
      auto out = admin_.update_user(p[0], profile, sets, active);
      call.user_id = u->id;
      call.changes.push_back(store::Change::user(u->id));
      // A deactivation revokes the user's tokens (Admin::update_user).
      if (active && !*active) call.changes.push_back(store::Change::all_tokens());
      return out;
    }
    case AdminOp::revoke_user_tokens: {
      auto u = need_user(p[0]);
      if (!u) return std::move(u).error();
      call.user_id = u->id;
      call.changes.push_back(store::Change::all_tokens());
      return admin_.revoke_user_tokens(p[0]);
    }
    case AdminOp::list_keys:
      return page(admin_.list_keys(), "keys", "kid");
    case AdminOp::rotate_key: {
      const auto& body = call.body;
      if (!body) return body.error();
      Fields f(*body);
      std::string alg = "RS256";
      f.text("alg", alg);
      if (auto read = f.status(); !read) return std::move(read).error();
      auto out = admin_.rotate_key(alg);
      if (out) {
        // This server signs with the new key at once (no SIGHUP needed).
        (*out)["note"] = "this server signs with the new key now; others after SIGHUP or a restart";
        call.changes.push_back(store::Change::signing_keys());
      }
      return out;
    }
    case AdminOp::audit_tail: {
      auto form = http::parse_form(call.query);
      if (!form) return std::move(form).error();
      int64_t n = 100;
      if (std::string_view text = form->value("limit"); !text.empty()) {
        auto req = page_request("limit=" + std::string(text));
        if (!req) return std::move(req).error();
        n = req->limit;
      }
      if (options_.audit_log.empty() || options_.audit_log == "-") {
        return Error::not_found(
            "the audit log is not a file: start the server with --audit-log PATH to read its "
            "tail here");
      }
      return tail(options_.audit_log, n);
    }
  }
  return Error::server_error("unknown admin operation");
}

}  // namespace latchkey::app
