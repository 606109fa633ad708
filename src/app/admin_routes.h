// The admin listener's routes (`serve --admin-listen`, docs/admin-api.md): ONE table that
// AdminApi dispatches by and that docs/admin-api.openapi.json must describe exactly (a unit
// test checks both ways). Paths are patterns whose `{name}` segments match one
// percent-decoded path segment each. The admin console (a later addition) takes rows of its
// own under another prefix of the same listener. Constant; thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::app {

// What a row does; AdminApi::handle has one case for each (a switch, so that a row added
// without its handler does not compile).
enum class AdminOp {
  openapi,
  list_apps,
  create_app,
  show_app,
  rotate_secret,
  delete_app,
  list_approvals,
  add_preauthorization,
  remove_preauthorization,
  revoke_approval,
  list_users,
  create_user,
  show_user,
  update_user,
  revoke_user_tokens,
  list_keys,
  rotate_key,
  audit_tail,
};

struct AdminRoute {
  std::string_view method;   // GET, POST, PATCH or DELETE (GET also answers HEAD)
  std::string_view pattern;  // e.g. /admin/v1/apps/{client_id}/secret
  AdminOp op;
  std::string_view operation_id;  // the OpenAPI operationId; the audit log's detail
  bool needs_token;               // false only for the OpenAPI document itself
  bool changes;                   // recorded in the audit log with the admin's name
};

// Every route, in a fixed order.
std::span<const AdminRoute> admin_routes();

struct AdminMatch {
  const AdminRoute* route = nullptr;  // null: no row for this method (see allow) or path
  std::vector<std::string> params;    // the `{name}` segments in order, percent-decoded
  // The methods the path has when `route` is null but some row matches the path: "GET, POST"
  // for a 405's Allow header (RFC 9110 §15.5.6); empty when no row matches it (404).
  std::string allow;
};

// The row for `method` and `path` (the path as received, not decoded: a `{name}` may hold an
// encoded '/', %2F, as a client id may). A segment with a malformed escape, or an empty one,
// matches no `{name}`.
AdminMatch match_admin_route(std::string_view method, std::string_view path);

// Percent-decodes one path segment (RFC 3986 §2.1; '+' is itself); nullopt on a malformed escape.
std::optional<std::string> decode_segment(std::string_view segment);

}  // namespace latchkey::app
