#include "oidc/data_resources.h"

#include <boost/json.hpp>
#include <charconv>

#include "http/errors.h"
#include "token/bearer.h"
#include "token/scopes.h"
#include "core/paths.h"

namespace latchkey::oidc {
namespace {

constexpr int kOldest = 55;
constexpr int kNewest = 62;  // Winter '25

bool known_version(std::string_view v) {
  // "vNN.0"
  if (v.size() != 5 || v[0] != 'v' || v.substr(3) != ".0") return false;
  int n = 0;
  auto res = std::from_chars(v.data() + 1, v.data() + 3, n);
  return res.ec == std::errc{} && res.ptr == v.data() + 3 && n >= kOldest && n <= kNewest;
}

}  // namespace

http::Response DataResources::versions(const http::Request&) const {
  static const std::string body = [] {
    boost::json::array a;
    for (int n = kOldest; n <= kNewest; ++n) {
      std::string v = std::to_string(n) + ".0";
      a.push_back(boost::json::object{
          {"label", "Version " + v}, {"url", paths::kDataPrefix + ("v" + v)}, {"version", v}});
    }
    return boost::json::serialize(a);
  }();
  return http::Response::json(200, body);
}

http::Response DataResources::version_root(const http::Request& request) const {
  auto bearer = token::authenticate_bearer(request, tokens_, false);
  if (!bearer) return http::resource_error(bearer.error());
  // A deactivated user's tokens stop working everywhere, as at userinfo: Salesforce ends a
  // frozen or deactivated user's sessions.
  auto user = users_.find_user(bearer->user_id);
  if (!user || !user->active) return http::resource_error(oauth::Error::invalid_token());
  // Salesforce's REST API serves tokens granted `api` (or `full`), not an OpenID Connect or
  // identity-only token.
  if (!token::allows_api(bearer->scopes)) {
    return http::resource_error(oauth::Error::insufficient_scope("api"));
  }
  std::string_view rest =
      std::string_view(request.path).substr(std::string_view(paths::kDataPrefix).size());
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (!known_version(rest)) {
    return http::salesforce_error(http::SalesforceError::not_found);
  }
  std::string base = paths::kDataPrefix + std::string(rest);
  boost::json::object o{
      {"identity", issuer_ + paths::kIdentityPrefix + bearer->org_id + "/" + bearer->user_id},
      {"limits", base + "/limits"},
      {"sobjects", base + "/sobjects"},
      {"query", base + "/query"}};
  http::Response r = http::Response::json(200, boost::json::serialize(o));
  http::no_store(r);
  return r;
}

}  // namespace latchkey::oidc
