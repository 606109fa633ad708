#include "oidc/user_endpoints.h"

#include <boost/json.hpp>

#include "http/errors.h"
#include "token/bearer.h"
#include "token/scopes.h"
#include "oidc/id_token.h"
#include "core/paths.h"

namespace latchkey::oidc {
namespace {

std::string display_name(const store::User& u) {
  std::string n = u.first_name;
  if (!u.last_name.empty()) n += (n.empty() ? "" : " ") + u.last_name;
  return n.empty() ? u.username : n;
}

}  // namespace

http::Response UserEndpoints::userinfo(const http::Request& request) {
  auto bearer = token::authenticate_bearer(request, tokens_, false);
  if (!bearer) return http::resource_error(bearer.error());
  auto user = users_.find_user(bearer->user_id);
  if (!user || !user->active) return http::resource_error(oauth::Error::invalid_token());
  // OIDC Core §5.3 serves tokens granted `openid`; Salesforce's identity scopes (`id` and its
  // synonyms), `api` and `full` open it too (token::allows_userinfo, docs/behaviour.md §8).
  const std::vector<std::string>& scopes = bearer->scopes;
  if (!token::allows_userinfo(scopes)) {
    return http::resource_error(oauth::Error::insufficient_scope("openid"));
  }

  // `sub` and Salesforce's account identifiers always; the claims of OIDC Core §5.4 only with
  // the scope that asks for them. The user record holds no address or phone number, so those
  // scopes add nothing.
  boost::json::object o{
      {"sub", token::identity_url(issuer_, *user)},
      {"user_id", user->id},
      {"organization_id", user->org_id},
      {"active", user->active},
      {"user_type", "STANDARD"},
  };
  if (token::allows_claims(scopes, "profile")) {
    o["preferred_username"] = user->username;
    o["nickname"] = user->username;
    o["name"] = display_name(*user);
    o["given_name"] = user->first_name;
    o["family_name"] = user->last_name;
    o["language"] = "en_US";
    o["locale"] = "en_US";
    o["zoneinfo"] = "America/Los_Angeles";
  }
  if (token::allows_claims(scopes, "email")) {
    o["email"] = user->email;
    o["email_verified"] = !user->email.empty();
  }
  http::Response r = http::Response::json(200, boost::json::serialize(o));
  http::no_store(r);
  return r;
}

http::Response UserEndpoints::identity(const http::Request& request) {
  auto bearer = token::authenticate_bearer(request, tokens_, true);
  if (!bearer) return http::resource_error(bearer.error());
  auto user = users_.find_user(bearer->user_id);
  if (!user || !user->active) return http::resource_error(oauth::Error::invalid_token());
  // Salesforce's identity service needs `id` or a synonym of it (profile, email, address,
  // phone), `openid` or `full`; a token for the REST API alone (`api`) may not read it.
  if (!token::allows_identity(bearer->scopes)) {
    return http::resource_error(oauth::Error::insufficient_scope("id"));
  }
  // A token may read only its own user's identity (Salesforce answers 403 otherwise).
  std::string expect = paths::kIdentityPrefix + user->org_id + "/" + user->id;
  std::string_view path = request.path;
  if (path.ends_with('/')) path.remove_suffix(1);
  if (path != expect) {
    http::Response r = http::salesforce_error(http::SalesforceError::bad_id);
    http::no_store(r);
    return r;
  }
  std::string base = issuer_ + paths::kDataPrefix + "v{version}/";
  boost::json::object urls{
      {"enterprise", issuer_ + paths::kSoapEnterprisePrefix + "{version}/" + user->org_id},
      {"partner", issuer_ + paths::kSoapPartnerPrefix + "{version}/" + user->org_id},
      {"rest", base},
      {"sobjects", base + "sobjects/"},
      {"query", base + "query/"},
      {"profile", issuer_ + "/" + user->id},
      {"userinfo", issuer_ + paths::kUserinfo},
  };
  boost::json::object o{
      {"id", token::identity_url(issuer_, *user)},
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
