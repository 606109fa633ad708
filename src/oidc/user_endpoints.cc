#include "oidc/user_endpoints.h"

#include <boost/json.hpp>

#include "http/errors.h"
#include "oauth/bearer.h"
#include "oidc/id_token.h"

namespace latchkey::oidc {
namespace {

std::string display_name(const store::User& u) {
  std::string n = u.first_name;
  if (!u.last_name.empty()) n += (n.empty() ? "" : " ") + u.last_name;
  return n.empty() ? u.username : n;
}

}  // namespace

http::Response UserEndpoints::userinfo(const http::Request& request) {
  auto token = oauth::authenticate_bearer(request, tokens_, false);
  if (!token) return http::resource_error(token.error());
  auto user = users_.find_user(token->user_id);
  if (!user || !user->active) return http::resource_error(oauth::Error::invalid_token());

  boost::json::object o{
      {"sub", identity_url(issuer_, *user)},
      {"user_id", user->id},
      {"organization_id", user->org_id},
      {"preferred_username", user->username},
      {"nickname", user->username},
      {"name", display_name(*user)},
      {"email", user->email},
      {"email_verified", !user->email.empty()},
      {"given_name", user->first_name},
      {"family_name", user->last_name},
      {"active", user->active},
      {"user_type", "STANDARD"},
      {"language", "en_US"},
      {"locale", "en_US"},
      {"zoneinfo", "America/Los_Angeles"},
  };
  http::Response r = http::Response::json(200, boost::json::serialize(o));
  http::no_store(r);
  return r;
}

http::Response UserEndpoints::identity(const http::Request& request) {
  auto token = oauth::authenticate_bearer(request, tokens_, true);
  if (!token) return http::resource_error(token.error());
  auto user = users_.find_user(token->user_id);
  if (!user || !user->active) return http::resource_error(oauth::Error::invalid_token());
  // A token may read only its own user's identity (Salesforce answers 403 otherwise).
  std::string expect = "/id/" + user->org_id + "/" + user->id;
  std::string_view path = request.path;
  if (path.ends_with('/')) path.remove_suffix(1);
  if (path != expect) {
    http::Response r = http::Response::json(
        403, R"([{"message":"Bad_Id","errorCode":"BAD_ID"}])");
    http::no_store(r);
    return r;
  }
  std::string base = issuer_ + "/services/data/v{version}/";
  boost::json::object urls{
      {"enterprise", issuer_ + "/services/Soap/c/{version}/" + user->org_id},
      {"partner", issuer_ + "/services/Soap/u/{version}/" + user->org_id},
      {"rest", base},
      {"sobjects", base + "sobjects/"},
      {"query", base + "query/"},
      {"profile", issuer_ + "/" + user->id},
      {"userinfo", issuer_ + "/services/oauth2/userinfo"},
  };
  boost::json::object o{
      {"id", identity_url(issuer_, *user)},
      {"asserted_user", true},
      {"user_id", user->id},
      {"organization_id", user->org_id},
      {"username", user->username},
      {"nick_name", user->username},
      {"display_name", display_name(*user)},
      {"email", user->email},
      {"email_verified", !user->email.empty()},
      {"first_name", user->first_name},
      {"last_name", user->last_name},
      {"active", user->active},
      {"user_type", "STANDARD"},
      {"language", "en_US"},
      {"locale", "en_US"},
      {"utcOffset", -28800000},
      {"urls", std::move(urls)},
      {"is_app_installed", true},
  };
  http::Response r = http::Response::json(200, boost::json::serialize(o));
  http::no_store(r);
  return r;
}

}  // namespace latchkey::oidc
