#include "app/admin_routes.h"

namespace latchkey::app {
namespace {

constexpr AdminRoute kAdminRoutes[] = {
    // method, pattern, op, operationId, needs a token, a change
    {"GET", "/admin/v1/openapi.json", AdminOp::openapi, "getOpenApi", false, false},
    {"GET", "/admin/v1/apps", AdminOp::list_apps, "listApps", true, false},
    {"POST", "/admin/v1/apps", AdminOp::create_app, "createApp", true, true},
    {"GET", "/admin/v1/apps/{client_id}", AdminOp::show_app, "showApp", true, false},
    {"DELETE", "/admin/v1/apps/{client_id}", AdminOp::delete_app, "deleteApp", true, true},
    {"POST", "/admin/v1/apps/{client_id}/secret", AdminOp::rotate_secret, "rotateAppSecret", true,
     true},
    {"GET", "/admin/v1/apps/{client_id}/approvals", AdminOp::list_approvals, "listApprovals", true,
     false},
    {"POST", "/admin/v1/apps/{client_id}/preauthorizations", AdminOp::add_preauthorization,
     "addPreauthorization", true, true},
    {"DELETE", "/admin/v1/apps/{client_id}/preauthorizations/{kind}/{name}",
     AdminOp::remove_preauthorization, "removePreauthorization", true, true},
    {"DELETE", "/admin/v1/apps/{client_id}/approvals/{username}", AdminOp::revoke_approval,
     "revokeApproval", true, true},
    {"GET", "/admin/v1/users", AdminOp::list_users, "listUsers", true, false},
    {"POST", "/admin/v1/users", AdminOp::create_user, "createUser", true, true},
    {"GET", "/admin/v1/users/{username}", AdminOp::show_user, "showUser", true, false},
    {"PATCH", "/admin/v1/users/{username}", AdminOp::update_user, "updateUser", true, true},
    {"DELETE", "/admin/v1/users/{username}/tokens", AdminOp::revoke_user_tokens, "revokeUserTokens",
     true, true},
    {"GET", "/admin/v1/keys", AdminOp::list_keys, "listKeys", true, false},
    {"POST", "/admin/v1/keys/rotate", AdminOp::rotate_key, "rotateKey", true, true},
    {"GET", "/admin/v1/audit", AdminOp::audit_tail, "auditTail", true, false},
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.starts_with('/')) path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// Whether `path` fits `pattern`; the `{name}` segments appended to `params`.
bool fits(std::string_view pattern, std::string_view path, std::vector<std::string>& params) {
  auto want = segments(pattern);
  auto have = segments(path);
  if (want.size() != have.size()) return false;
  std::vector<std::string> found;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i].starts_with('{')) {
      auto decoded = decode_segment(have[i]);
      if (!decoded || decoded->empty()) return false;
      found.push_back(std::move(*decoded));
    } else if (want[i] != have[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

std::span<const AdminRoute> admin_routes() { return kAdminRoutes; }

std::optional<std::string> decode_segment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] != '%') {
      out.push_back(segment[i]);
      continue;
    }
    if (i + 2 >= segment.size()) return std::nullopt;
    int hi = hex_value(segment[i + 1]);
    int lo = hex_value(segment[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

AdminMatch match_admin_route(std::string_view method, std::string_view path) {
  AdminMatch m;
  if (method == "HEAD") method = "GET";
  for (const AdminRoute& r : kAdminRoutes) {
    std::vector<std::string> params;
    if (!fits(r.pattern, path, params)) continue;
    if (r.method == method) {
      m.route = &r;
      m.params = std::move(params);
      m.allow.clear();
      return m;
    }
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += r.method;
    if (r.method == "GET") m.allow += ", HEAD";
  }
  return m;
}

}  // namespace latchkey::app
