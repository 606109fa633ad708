#include "oidc/data_resources.h"

#include <boost/json.hpp>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "core/paths.h"
#include "http/errors.h"
#include "http/params.h"
#include "oidc/soql_query.h"
#include "token/bearer.h"
#include "token/scopes.h"

namespace latchkey::oidc {
namespace {

// The versions served: from v31.0 (the oldest Salesforce still serves) to Winter '25's. The
// Salesforce CLI asks for v51.0 in places, whatever the newest is.
constexpr int kOldest = 31;
constexpr int kNewest = 62;

bool known_version(std::string_view v) {
  // "vNN.0"
  if (v.size() != 5 || v[0] != 'v' || v.substr(3) != ".0") return false;
  int n = 0;
  auto res = std::from_chars(v.data() + 1, v.data() + 3, n);
  return res.ec == std::errc{} && res.ptr == v.data() + 3 && n >= kOldest && n <= kNewest;
}

// Salesforce's datetime format: 2026-12-03T17:22:34.000+0000.
std::string salesforce_time(int64_t ms) {
  std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+0000", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

// A record's fields by their API names, in Salesforce's order.
using Fields = std::vector<std::pair<std::string_view, boost::json::value>>;

Fields organization_fields(const store::Org& org) {
  return {{"Id", boost::json::value(org.id)},
          {"Name", boost::json::value(org.name)},
          {"InstanceName", "LATCHKEY"},
          {"IsSandbox", false},
          {"TrialExpirationDate", nullptr},
          {"NamespacePrefix", nullptr},
          {"OrganizationType", "Developer Edition"},
          {"CreatedDate", boost::json::value(salesforce_time(org.created_ms))}};
}

Fields user_fields(const store::User& u) {
  std::string name = u.first_name.empty() ? u.last_name : u.first_name + " " + u.last_name;
  auto or_null = [](const std::string& s) {
    return s.empty() ? boost::json::value(nullptr) : boost::json::value(s);
  };
  return {{"Id", boost::json::value(u.id)},
          {"Username", boost::json::value(u.username)},
          {"Email", boost::json::value(u.email)},
          {"Name", boost::json::value(name)},
          {"FirstName", or_null(u.first_name)},
          {"LastName", boost::json::value(u.last_name)},
          {"IsActive", u.active},
          {"CreatedDate", boost::json::value(salesforce_time(u.created_ms))}};
}

boost::json::object attributes(std::string_view type, const std::string& base,
                               const std::string& id) {
  return {{"type", type}, {"url", base + "/sobjects/" + std::string(type) + "/" + id}};
}

// Salesforce takes an id in its 15-character (case-sensitive) or 18-character form.
bool same_id(std::string_view given, const std::string& id) {
  return given == id || (given.size() == 15 && id.size() == 18 && id.starts_with(given));
}

std::string invalid_field(std::string_view field, std::string_view object) {
  return "No such column '" + std::string(field) + "' on entity '" + std::string(object) +
         "'. If you are attempting to use a custom field, be sure to append the '__c' after the "
         "custom field name. Please reference your WSDL or the describe call for the "
         "appropriate names.";
}

http::Response json_no_store(const boost::json::value& v) {
  http::Response r = http::Response::json(200, boost::json::serialize(v));
  http::no_store(r);
  return r;
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

http::Response DataResources::resource(const http::Request& request) const {
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
  std::string_view version = rest.substr(0, rest.find('/'));
  rest.remove_prefix(version.size());
  if (!rest.empty()) rest.remove_prefix(1);  // the '/'
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (!known_version(version)) return http::salesforce_error(http::SalesforceError::not_found);
  std::string base = paths::kDataPrefix + std::string(version);
  if (rest.empty()) {
    return json_no_store(boost::json::object{
        {"identity", issuer_ + paths::kIdentityPrefix + bearer->org_id + "/" + bearer->user_id},
        {"limits", base + "/limits"},
        {"sobjects", base + "/sobjects"},
        {"query", base + "/query"}});
  }
  if (rest == "query") return query(request, *bearer, base);
  constexpr std::string_view kUser = "sobjects/User/";
  if (rest.starts_with(kUser) && rest.find('/', kUser.size()) == std::string_view::npos) {
    return user_record(*bearer, base, rest.substr(kUser.size()));
  }
  return http::salesforce_error(http::SalesforceError::not_found);
}

http::Response DataResources::query(const http::Request& request, const store::Token& bearer,
                                    const std::string& base) const {
  using http::SalesforceError;
  auto params = http::parse_form(request.query);
  if (!params || params->value("q").empty()) {
    return http::salesforce_error(SalesforceError::malformed_query,
                                  "The query parameter q is required");
  }
  auto parsed = parse_soql(params->value("q"));
  if (auto* e = std::get_if<SoqlSyntaxError>(&parsed)) {
    return http::salesforce_error(SalesforceError::malformed_query, e->message);
  }
  const SoqlQuery& q = std::get<SoqlQuery>(parsed);
  const bool organization = soql_name_equals(q.object, "Organization");
  if (!organization && !soql_name_equals(q.object, "User")) {
    // The Salesforce CLI takes an org whose ScratchOrgInfo query succeeds for a Dev Hub.
    return http::salesforce_error(
        SalesforceError::invalid_type,
        "sObject type '" + q.object +
            "' is not supported. If you are attempting to use a custom object, be sure to "
            "append the '__c' after the entity name. Please reference your WSDL or the "
            "describe call for the appropriate names.");
  }
  if (q.other_clauses || (!organization && !q.id)) {
    return http::salesforce_error(
        SalesforceError::malformed_query,
        "This server answers only SELECT fields FROM Organization [WHERE Id = '…'] [LIMIT n] "
        "and SELECT fields FROM User WHERE Id = '…' [LIMIT n]");
  }
  std::string_view type = organization ? "Organization" : "User";
  // Every field named must exist, whether or not a record matches (Salesforce checks the query
  // before it runs it).
  std::vector<std::string_view> names;
  const Fields known =
      organization ? organization_fields(store::Org{}) : user_fields(store::User{});
  for (const auto& f : q.fields) {
    auto it = std::find_if(known.begin(), known.end(),
                           [&](const auto& k) { return soql_name_equals(k.first, f); });
    if (it == known.end()) {
      return http::salesforce_error(SalesforceError::invalid_field, invalid_field(f, type));
    }
    names.push_back(it->first);
  }
  // The one record the query can match, if it does.
  std::optional<Fields> record;
  std::string record_id;
  if (organization) {
    auto org = orgs_.find_org(bearer.org_id);
    if (org && (!q.id || same_id(*q.id, org->id))) {
      record = organization_fields(*org);
      record_id = org->id;
    }
  } else {
    // Users are found by their 18-character id; another org's user matches nothing.
    auto user = q.id->size() == 18 ? users_.find_user(*q.id) : std::nullopt;
    if (user && user->org_id == bearer.org_id) {
      record = user_fields(*user);
      record_id = user->id;
    }
  }
  boost::json::array records;
  if (record && (!q.limit || *q.limit > 0)) {
    boost::json::object o{{"attributes", attributes(type, base, record_id)}};
    for (auto name : names) {
      for (const auto& [k, v] : *record) {
        if (k == name) o[k] = v;
      }
    }
    records.push_back(std::move(o));
  }
  return json_no_store(boost::json::object{
      {"totalSize", records.size()}, {"done", true}, {"records", std::move(records)}});
}

http::Response DataResources::user_record(const store::Token& bearer, const std::string& base,
                                          std::string_view id) const {
  auto user = id.size() == 18 ? users_.find_user(std::string(id)) : std::nullopt;
  // Another org's user is as unknown as one that does not exist.
  if (!user || user->org_id != bearer.org_id) {
    return http::salesforce_error(http::SalesforceError::not_found);
  }
  boost::json::object o{{"attributes", attributes("User", base, user->id)}};
  for (auto& [k, v] : user_fields(*user)) o[k] = std::move(v);
  return json_no_store(std::move(o));
}

}  // namespace latchkey::oidc
